import FlotillaCore
import FlotillaEngine
import FlotillaStore
import Foundation
import Synchronization

/// A daemon's `--max-running N`: at most N missions run at once; a mission created while N run waits, `queued`, and
/// the daemon lets the waiting ones through first in, first out as running ones end.
///
/// The queue is the ledgers' (`missions.queued_at`, `mission.queued` and `mission.dequeued` events), so it outlives
/// the daemon: the next one lets them through. Decisions are made one at a time (an admission and a creation never
/// both see a free place). A mission counts as running while its process lives; one that crashed leaves its place
/// until the supervisor restarts it.
package final class MissionQueue: Sendable {
    package let maxRunning: Int
    private let turn = AdmissionTurn()

    package init(maxRunning: Int) {
        self.maxRunning = maxRunning
    }

    /// Starts a mission just created, or queues it behind the ones already waiting.
    func startOrQueue(_ id: MissionID, in handle: MissionRepository, missions: LocalMissions) async throws {
        try await turn.taken {
            let waiting = try await Self.queued(in: missions)
            if waiting.isEmpty, try await Self.running(in: missions) < maxRunning {
                await handle.waitUntilStarted(id, pid: try handle.launchInBackground(id))
                return
            }
            try await handle.control(try await handle.requireRecord(id))
                .queue(id, ahead: waiting.count, maxRunning: maxRunning)
        }
    }

    /// Lets queued missions through, oldest first, while fewer than `maxRunning` run; says what it did.
    func admit(_ missions: LocalMissions) async -> [String] {
        do {
            return try await turn.taken {
                var actions: [String] = []
                var running = try await Self.running(in: missions)
                for (record, handle) in try await Self.queued(in: missions) where running < maxRunning {
                    let id = record.spec.id
                    try await handle.control(record).dequeue(id)
                    await handle.waitUntilStarted(id, pid: try handle.launchInBackground(id))
                    running += 1
                    actions.append(
                        "started \(id) in \(handle.root): its turn in the queue came (--max-running \(maxRunning))"
                    )
                }
                return actions
            }
        } catch {
            return ["warning: letting queued missions through failed: \(error)"]
        }
    }

    /// The missions whose process runs, over every served repository.
    private static func running(in missions: LocalMissions) async throws -> Int {
        var count = 0
        for root in missions.repositories {
            let handle = try missions.repository(root)
            guard let ledger = try handle.existingLedger() else { continue }
            for record in try await ledger.missions(state: .running) {
                if case .running = handle.liveness(record) { count += 1 }
            }
        }
        return count
    }

    /// The queued missions over every served repository, first queued first.
    private static func queued(in missions: LocalMissions) async throws -> [(MissionRecord, MissionRepository)] {
        var found: [(MissionRecord, MissionRepository)] = []
        for root in missions.repositories {
            let handle = try missions.repository(root)
            guard let ledger = try handle.existingLedger() else { continue }
            for record in try await ledger.missions(state: .created) where record.isQueued {
                found.append((record, handle))
            }
        }
        return found.sorted {
            ($0.0.queuedAt ?? .distantPast, $0.0.spec.id.rawValue) < (
                $1.0.queuedAt ?? .distantPast, $1.0.spec.id.rawValue
            )
        }
    }
}

/// One decision of the queue at a time, across the tasks that ask (HTTP requests, the supervisor's look).
private final class AdmissionTurn: Sendable {
    private let state = Mutex<(taken: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func taken<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.taken {
                    state.waiting.append(continuation)
                    return false
                }
                state.taken = true
                return true
            }
            if now { continuation.resume() }
        }
        defer {
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if state.waiting.isEmpty {
                    state.taken = false
                    return nil
                }
                return state.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}
