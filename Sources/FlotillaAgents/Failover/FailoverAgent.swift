import FlotillaCore
import Foundation

/// Agent backends in order of preference: each session goes to the first one not cooling down after a rate
/// limit, so a quota on one tool moves the work to the next instead of stopping it.
///
/// A backend that hits a limit rests for the wait it stated (else the backoff's first step). While every backend
/// rests, sessions go to the one that is free soonest, and the loop's own backoff holds dispatch.
package struct FailoverAgent: AgentBackend {
    private let backends: [any AgentBackend]
    private let backoff: RateLimitBackoff
    private let now: @Sendable () -> Date
    private let rests: Rests

    /// Creates the chain; `backends` must not be empty (the first is the mission's own).
    package init(
        _ backends: [any AgentBackend],
        backoff: RateLimitBackoff,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        precondition(!backends.isEmpty, "a failover chain needs a backend")
        self.backends = backends
        self.backoff = backoff
        self.now = now
        rests = Rests(count: backends.count)
    }

    package var name: String { backends[0].name }
    package var ownFiles: [String] { backends.flatMap(\.ownFiles) }

    package func run(_ request: AgentRequest) async throws -> AgentOutcome {
        let index = await rests.choose(at: now())
        var outcome = try await backends[index].run(request)
        outcome.backend = backends[index].name
        if case .rateLimited(let message)? = outcome.failure {
            let start = now()
            let until = start.addingTimeInterval(backoff.delay(after: message, consecutive: 1, now: start).seconds)
            if let next = await rests.rest(index, until: until, at: start) {
                outcome.failover = backends[next].name
            }
        }
        return outcome
    }

    /// When each backend may be used again.
    private actor Rests {
        private var until: [Date?]

        init(count: Int) {
            until = Array(repeating: nil, count: count)
        }

        /// The first backend not resting, else the one whose rest ends soonest.
        func choose(at now: Date) -> Int {
            if let free = until.indices.first(where: { (until[$0] ?? now) <= now }) { return free }
            return until.indices.min { (until[$0] ?? now) < (until[$1] ?? now) } ?? 0
        }

        /// Rests `index`; returns the backend that takes over, if one is free.
        func rest(_ index: Int, until end: Date, at now: Date) -> Int? {
            until[index] = max(until[index] ?? end, end)
            return until.indices.first { (until[$0] ?? now) <= now }
        }
    }
}
