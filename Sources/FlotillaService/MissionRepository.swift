import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaGit
import FlotillaStore
import FlotillaSystem
import Foundation
import Synchronization

/// One repository's missions: its root, `.flotilla/` files and ledger, with this machine's processes.
package struct MissionRepository: Sendable {
    package let composition: Composition
    package let root: String
    package let layout: MissionLayout
    private let store: LedgerStore

    /// The repository at `root`; `create` opens (or creates) its ledger now, else an existing one is opened when
    /// first read and a missing one stays missing until a mission is created.
    package init(composition: Composition, root: String, create: Bool) throws {
        self.composition = composition
        self.root = root
        layout = MissionLayout(repository: root)
        store = LedgerStore(path: layout.ledgerPath)
        if create { _ = try store.open(create: true) }
    }

    /// The ledger; nil when the repository has no missions yet (reading never creates one).
    package func existingLedger() throws -> SQLiteLedger? { try store.open(create: false) }

    /// The ledger, created if need be: for writing a new mission.
    package func openLedger() throws -> SQLiteLedger {
        guard let ledger = try store.open(create: true) else {
            throw FlotillaError(.internal, "cannot create the ledger \(layout.ledgerPath)")
        }
        return ledger
    }

    /// The ledger, which a mission found in it implies.
    package func requireLedger() throws -> SQLiteLedger {
        guard let ledger = try existingLedger() else {
            throw FlotillaError.notFound(
                "no missions in \(root) yet (start one with `flotilla run`, or try `flotilla demo`)"
            )
        }
        return ledger
    }

    /// The mission, from this repository's ledger.
    package func record(_ id: MissionID) async throws -> MissionRecord? {
        try await existingLedger()?.mission(id)
    }

    package func requireRecord(_ id: MissionID) async throws -> MissionRecord {
        guard let record = try await record(id) else {
            throw FlotillaError.notFound("no mission \(id) in \(root) (see `flotilla list`)")
        }
        return record
    }

    /// Whether the mission's process is alive: the one place that asks.
    package func liveness(_ record: MissionRecord) -> MissionLiveness {
        MissionLiveness(record, processes: composition.processTable)
    }

    /// The mission as the API and `--output json` show it; with its groups and target head when `detailed`.
    package func dto(_ record: MissionRecord, detailed: Bool = true) async throws -> MissionDTO {
        var dto = MissionDTO(
            record,
            targetHead: detailed ? await targetHead(record) : nil,
            groups: detailed ? try await requireLedger().groups(of: record.spec.id) : nil,
            crashed: liveness(record).isCrashed
        )
        if detailed, record.spec.checklist.hasTypedCriteria, var groups = dto.groups {
            let verifications = try await requireLedger().verifications(of: record.spec.id).map(\.verification)
            let standings = CriterionStanding.of(record.spec.checklist, verifications: verifications)
            for index in groups.indices { groups[index].typedCriteria = standings[groups[index].id] }
            dto.groups = groups
        }
        if detailed {
            // Held landings wait in every mode; with approvals off, only they can.
            let waiting = try await requireLedger().approvals(of: record.spec.id).filter { $0.decision == nil }
            let shown = record.spec.options.approvalMode != .none ? waiting : waiting.filter { $0.hold != nil }
            if !shown.isEmpty || record.spec.options.approvalMode != .none {
                dto.awaitingApproval = shown.map { record in
                    (record.attempt?.description ?? "mission") + (record.hold.map { " (\($0))" } ?? "")
                }
            }
        }
        return dto
    }

    package func targetHead(_ record: MissionRecord) async -> String? {
        try? await composition.git(root).resolveCommit("refs/heads/\(record.spec.targetBranch)")
    }

    /// Stops, approves and settles missions without running them; what it records goes to the mission's files too.
    package func control(_ record: MissionRecord) throws -> MissionControl {
        MissionControl(
            ledger: try requireLedger(),
            git: composition.git(root),
            processTable: composition.processTable,
            layout: layout,
            sink: EventBus([
                EventsFileSink(path: layout.eventsFile(record.spec.id)),
                MissionLogSink(path: layout.missionLog(record.spec.id), origin: record.createdAt),
            ])
        )
    }

    /// Runs the mission in a background process of its own (`flotilla resume ID`); returns that process's pid.
    package func launchInBackground(_ id: MissionID) throws -> Int32 {
        guard let binary = Bundle.main.executablePath else {
            throw FlotillaError(.internal, "cannot locate the flotilla binary")
        }
        return try BackgroundProcess.launch(
            executable: binary,
            arguments: ["resume", id.rawValue, "--repo", root],
            // The mission's own process runs it; it must not hand it back to a daemon.
            environment: composition.environment.merging(["FLOTILLA_NO_DAEMON": "1"]) { $1 },
            directory: root,
            logPath: layout.backgroundLog(id)
        )
    }

    /// Waits (at most 15 s) until the mission's new process `pid` has recorded itself as its runner, or has ended.
    ///
    /// So that what is answered after a start already shows the mission running; the process writes only to the
    /// ledger, which is therefore polled.
    package func waitUntilStarted(_ id: MissionID, pid: Int32) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(15))
        while clock.now < deadline {
            if let record = try? await record(id), record.runner?.pid == pid,
                record.state == .running || record.state.isTerminal
            {
                return
            }
            guard LinuxProcessTable.identity(of: pid) != nil else { return }
            try? await clock.sleep(for: .milliseconds(20))
        }
    }

    /// Starts the mission in the background unless its process is alive, and waits until it runs.
    package func continueInBackground(_ record: MissionRecord) async throws {
        if record.stopReason == .terminated { try MissionControl.requireResumable(record) }
        if case .running(let runner) = liveness(record) {
            throw FlotillaError.conflict(
                "mission \(record.spec.id) is already running (process \(runner.pid)); follow it with "
                    + "`flotilla attach \(record.spec.id)`"
            )
        }
        let pid = try launchInBackground(record.spec.id)
        await waitUntilStarted(record.spec.id, pid: pid)
    }

    /// Stops a mission gracefully, and by force after `wait`; `progress` hears about the waiting.
    ///
    /// Asks its process to stop, waits, kills it if need be and records what the dead process could not. With an
    /// `end` other than `pause`, a mission that is not running is ended too: terminated, or declared complete.
    package func stop(
        _ record: MissionRecord,
        wait: Duration,
        end: MissionEnd = .pause,
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> MissionRecord {
        let id = record.spec.id
        if record.state == .running {
            _ = try await pause(record, wait: wait, progress: progress)
        } else if end == .pause {
            throw FlotillaError.conflict("mission \(id) is not running (\(record.state.rawValue))")
        }
        switch end {
        case .pause: break
        case .terminate:
            try await control(record).conclude(id, as: .terminated, summary: "terminated by a person; it cannot resume")
        case .complete(let reason):
            try await control(record).conclude(
                id,
                as: .forcedComplete,
                summary: "declared complete by a person: \(reason)"
            )
        }
        return try await requireRecord(id)
    }

    /// `flotilla step`: allows `attempts` more attempts to a mission that is not running.
    package func allowStep(_ record: MissionRecord, attempts: Int) async throws {
        if case .running(let runner) = liveness(record) {
            throw FlotillaError.conflict(
                "mission \(record.spec.id) is running (process \(runner.pid)); stop it first, or follow it with "
                    + "`flotilla attach \(record.spec.id)`"
            )
        }
        try await control(record).allowStep(record.spec.id, attempts: attempts)
    }

    private func pause(
        _ record: MissionRecord,
        wait: Duration,
        progress: @Sendable (String) -> Void
    ) async throws -> MissionRecord {
        let table = composition.processTable
        let id = record.spec.id
        if case .running(let runner) = liveness(record) {
            _ = table.requestStop(runner)
            progress("asked process \(runner.pid) to stop; waiting up to \(wait.shortDescription)…")
            if await table.waitForExit(runner, timeout: wait) {
                let after = try await requireRecord(id)
                if after.state.isTerminal { return after }
            } else {
                _ = table.kill(runner)
                _ = await table.waitForExit(runner, timeout: .seconds(10))
                progress("process \(runner.pid) did not stop in time and was killed")
            }
        }
        // The process is gone without recording its end (killed, or crashed before): repair and record it.
        try await control(record).settle(id, as: .stopped, summary: "stopped by the user; its process had to be ended")
        return try await requireRecord(id)
    }

    /// Waits (briefly) for an ended mission's process to exit: it writes the log's last lines after the ledger's.
    package func waitForRunnerToFinish(_ id: MissionID) async {
        guard let runner = try? await record(id)?.runner else { return }
        _ = await composition.processTable.waitForExit(runner, timeout: .seconds(10))
    }
}

/// Whether a mission's process is alive, as its record and this machine's processes say.
package enum MissionLiveness: Sendable, Equatable {
    /// Created, not started yet.
    case waiting
    case running(ProcessIdentity)
    /// The ledger says running, but its process is gone (nil: none was recorded).
    case crashed(ProcessIdentity?)
    /// Completed, blocked, failed or stopped.
    case ended

    package init(_ record: MissionRecord, processes: any ProcessTable) {
        switch record.state {
        case .created: self = .waiting
        case .running:
            if let runner = record.runner, processes.isRunning(runner) {
                self = .running(runner)
            } else {
                self = .crashed(record.runner)
            }
        case .completed, .blocked, .failed, .stopped: self = .ended
        }
    }

    package var isCrashed: Bool {
        if case .crashed = self { return true }
        return false
    }
}

/// A repository's ledger, opened once, when it exists or is to be created.
private final class LedgerStore: Sendable {
    private let path: String
    private let opened = Mutex<SQLiteLedger?>(nil)

    init(path: String) {
        self.path = path
    }

    func open(create: Bool) throws -> SQLiteLedger? {
        try opened.withLock { ledger in
            if let ledger { return ledger }
            guard create || FileManager.default.fileExists(atPath: path) else { return nil }
            ledger = try SQLiteLedger(path: path)
            return ledger
        }
    }
}
