import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaStore
import Foundation
import ServiceLifecycle

/// Watches the missions a daemon serves: one whose process died is noticed (`mission.crashed`) and resumed, with a
/// bounded restart policy and backoff, everything recorded in the mission's ledger.
///
/// The count of restarts lives in the ledger, so restarting the daemon does not reset it.
package actor Supervisor: Service {
    /// How often, how soon and how many times crashed missions are restarted.
    package struct Policy: Sendable, Equatable {
        /// Restarts allowed within ``window``; a mission that crashes again is left crashed (0: never restart).
        package var limit = 3
        package var window: Duration = .seconds(600)
        /// The wait before the second restart, doubling with each one after (the first is at once).
        package var backoff: Duration = .seconds(1)
        package var maxDelay: Duration = .seconds(60)
        /// How often running missions are looked at.
        package var interval: Duration = .seconds(2)

        package init() {}

        /// The wait before restart number `restart` (1 for the first).
        package func delay(before restart: Int) -> Duration {
            guard restart > 1 else { return .zero }
            let factor = Double(1 << min(restart - 2, 20))
            return min(.seconds(bounded: backoff.seconds * factor), maxDelay)
        }
    }

    private let missions: LocalMissions
    private let policy: Policy
    private let log: @Sendable (String) -> Void
    private var pending: [MissionID: Task<Void, Never>] = [:]

    package init(missions: LocalMissions, policy: Policy, log: @escaping @Sendable (String) -> Void) {
        self.missions = missions
        self.policy = policy
        self.log = log
    }

    /// Looks at every running mission once; returns what it did, for the daemon's log.
    package func check() async -> [String] {
        var actions: [String] = []
        for root in missions.repositories {
            guard let handle = try? missions.repository(root), let ledger = try? handle.existingLedger(),
                let running = try? await ledger.missions(state: .running)
            else { continue }
            for record in running where pending[record.spec.id] == nil {
                guard case .crashed(let runner) = handle.liveness(record) else { continue }
                do {
                    if let action = try await supervise(record, runner: runner, in: handle) { actions.append(action) }
                } catch {
                    actions.append("warning: supervising \(record.spec.id) in \(root) failed: \(error)")
                }
            }
        }
        return actions
    }

    /// Checks every ``Policy/interval`` until the daemon shuts down.
    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: self.policy.interval)
                } catch {
                    break
                }
                for action in await self.check() { self.log(action) }
            }
        }
        for task in pending.values { task.cancel() }
    }

    private func supervise(
        _ record: MissionRecord,
        runner: ProcessIdentity?,
        in handle: MissionRepository
    ) async throws -> String? {
        let id = record.spec.id
        let dead = runner ?? ProcessIdentity(pid: 0, startTicks: 0)
        let since = Date().addingTimeInterval(-policy.window.seconds)
        let notices = try await handle.requireLedger().events(of: id, kind: .missionCrashed, since: since)
        // This death was seen already (its restart failed to start, or the policy gave up): nothing more to do.
        if notices.contains(where: { $0.crashedRunner == dead }) { return nil }
        let restarts = notices.filter { $0.announcedRestart != nil }.count
        let control = try handle.control(record)
        let place = "\(id) in \(handle.root)"
        guard restarts < policy.limit else {
            try await control.noteCrash(id, CrashNotice(runner: dead, restart: nil, delay: .zero, limit: policy.limit))
            return "\(place): its process died again; not restarting it after \(policy.limit) restarts "
                + "(`flotilla resume \(id)` continues it)"
        }
        let restart = restarts + 1
        let delay = policy.delay(before: restart)
        try await control.noteCrash(
            id,
            CrashNotice(runner: dead, restart: restart, delay: delay, limit: policy.limit)
        )
        let what = "its process had died; restart \(restart) of \(policy.limit)"
        guard delay > .zero else {
            try await handle.continueInBackground(try await handle.requireRecord(id))
            return "resumed \(place) (\(what))"
        }
        pending[id] = Task {
            try? await Task.sleep(for: delay)
            await self.restart(id, runner: dead, in: handle, what: what)
        }
        return "will resume \(place) in \(delay.shortDescription) (\(what))"
    }

    /// A delayed restart, unless someone resumed or stopped the mission meanwhile.
    private func restart(_ id: MissionID, runner: ProcessIdentity, in handle: MissionRepository, what: String) async {
        defer { pending[id] = nil }
        guard !Task.isCancelled, let record = try? await handle.requireRecord(id),
            case .crashed(let current) = handle.liveness(record), (current ?? runner) == runner
        else { return }
        do {
            try await handle.continueInBackground(record)
            log("resumed \(id) in \(handle.root) (\(what))")
        } catch {
            log("warning: resuming \(id) in \(handle.root) failed: \(error)")
        }
    }
}
