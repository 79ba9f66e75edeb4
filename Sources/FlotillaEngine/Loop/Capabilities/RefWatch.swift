import FlotillaCore
import Foundation

/// Reports moves of the user's branches and tags while agents run without a sandbox.
///
/// Without a sandbox an agent can move them: each attempt's end compares them with the last look and reports any move,
/// with the attempts that ran meanwhile. Not undone: Flotilla cannot tell the user's own commits from an agent's
/// there.
struct RefWatch: LoopCapability {
    /// The user's refs as last seen; nil when sessions are sandboxed (they cannot reach them).
    var known: [String: String]?
    /// The attempts that ran since that look.
    var ranSince: [AttemptKey] = []
    /// Looks under way.
    var looking = 0

    var inFlight: Int { looking }

    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] {
        guard known != nil else { return [] }
        switch event {
        case .dispatching(let plan):
            ranSince += plan.keys
            return []
        case .attemptEnded:
            guard view.stopping == nil else { return [] }
            looking += 1
            return [.spawn(UserRefsRead())]
        case .userRefsRead(let current):
            looking -= 1
            guard let before = known, let current else { return [] }
            known = current
            let moves = Set(before.keys).union(current.keys).sorted().compactMap { ref -> RefMove? in
                before[ref] == current[ref] ? nil : RefMove(ref: ref, from: before[ref], to: current[ref])
            }
            let during = ranSince
            ranSince = view.runningAttempts.sorted { $0.description < $1.description }
            return moves.isEmpty ? [] : [.record(.refsMoved(moves, during: during))]
        default:
            return []
        }
    }
}

/// Reads the user's branches and tags.
struct UserRefsRead: ChildWork {
    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        // A failed read leaves the refs as last seen: the next look compares again.
        .userRefsRead(try? await environment.context.git.userRefs())
    }
}
