import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaStore
import Foundation
package import Logging
import ServiceLifecycle

/// Watches the missions a daemon serves: one whose process died is noticed (`mission.crashed`) and resumed, with a
/// bounded restart policy and backoff, everything recorded in the mission's ledger; and lets queued missions through
/// as places free (``MissionQueue``).
///
/// The count of restarts lives in the ledger, so restarting the daemon does not reset it. Delayed restarts wait in
/// the supervisor's own loop (no task of their own), on the clock it is given.
package actor Supervisor<C: Clock>: Service where C.Duration == Duration {
    /// How often, how soon and how many times crashed missions are restarted.
    package typealias Policy = SupervisionPolicy

    /// A restart that waits for its backoff.
    private struct Delayed {
        var due: C.Instant
        var runner: ProcessIdentity
        var handle: MissionRepository
        var what: String
    }

    private let missions: LocalMissions
    private let policy: Policy
    private let logger: Logger
    private let clock: C
    /// The served repositories' schedules, fired at each look.
    private let schedules: ScheduleFiring?
    private var delayed: [MissionID: Delayed] = [:]

    package init(
        missions: LocalMissions,
        policy: Policy,
        logger: Logger,
        clock: C,
        schedules: ScheduleFiring? = nil
    ) {
        self.missions = missions
        self.policy = policy
        self.logger = logger
        self.clock = clock
        self.schedules = schedules
    }

    /// Looks at every running mission once; returns what it did, for the daemon's log.
    package func check() async -> [String] {
        var actions: [String] = []
        for root in missions.repositories {
            guard let handle = try? missions.repository(root), let ledger = try? handle.existingLedger(),
                let running = try? await ledger.missions(state: .running)
            else { continue }
            for record in running where delayed[record.spec.id] == nil {
                guard case .crashed(let runner) = handle.liveness(record) else { continue }
                do {
                    if let action = try await supervise(record, runner: runner, in: handle) { actions.append(action) }
                } catch {
                    actions.append("warning: supervising \(record.spec.id) in \(root) failed: \(error)")
                }
            }
        }
        // Places freed since the last look go to queued missions (--max-running), oldest first.
        if let queue = missions.queue { actions += await queue.admit(missions) }
        // Slots that came due start their missions (after the queue had its turn: they wait in it like any other).
        if let schedules { actions += await schedules.fireDue(missions, now: Date()) }
        return actions
    }

    /// Checks every ``Policy/interval``, and makes the restarts that are due, until the daemon shuts down; restarts
    /// still waiting then are left to the next daemon.
    package func run() async throws {
        await cancelWhenGracefulShutdown {
            var nextCheck = self.clock.now.advanced(by: self.policy.interval)
            while !Task.isCancelled {
                let wake = await self.delayed.values.map(\.due).reduce(nextCheck) { min($0, $1) }
                do {
                    try await self.clock.sleep(until: wake, tolerance: nil)
                } catch {
                    break
                }
                await self.restartDue()
                guard self.clock.now >= nextCheck else { continue }
                for action in await self.check() { await self.report(action) }
                nextCheck = self.clock.now.advanced(by: self.policy.interval)
            }
        }
        delayed = [:]
    }

    /// Makes the delayed restarts whose time has come.
    private func restartDue() async {
        let now = clock.now
        for (id, restart) in delayed where restart.due <= now {
            delayed[id] = nil
            await self.restart(id, runner: restart.runner, in: restart.handle, what: restart.what)
        }
    }

    private func report(_ action: String) {
        if action.hasPrefix("warning: ") {
            logger.warning("\(action.dropFirst("warning: ".count))")
        } else {
            logger.notice("\(action)")
        }
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
        delayed[id] = Delayed(due: clock.now.advanced(by: delay), runner: dead, handle: handle, what: what)
        return "will resume \(place) in \(delay.shortDescription) (\(what))"
    }

    /// A delayed restart, unless someone resumed or stopped the mission meanwhile.
    private func restart(_ id: MissionID, runner: ProcessIdentity, in handle: MissionRepository, what: String) async {
        guard !Task.isCancelled, let record = try? await handle.requireRecord(id),
            case .crashed(let current) = handle.liveness(record), (current ?? runner) == runner
        else { return }
        do {
            try await handle.continueInBackground(record)
            logger.notice("resumed \(id) in \(handle.root) (\(what))")
        } catch {
            logger.warning("resuming \(id) in \(handle.root) failed: \(error)")
        }
    }
}

/// How often, how soon and how many times a daemon restarts crashed missions.
package struct SupervisionPolicy: Sendable, Equatable {
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
