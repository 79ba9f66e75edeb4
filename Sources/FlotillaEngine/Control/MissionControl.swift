import FlotillaCore
import Foundation

/// What a person does to a mission that is not running it: end one whose process is gone, release blocked groups.
///
/// It needs the mission's ledger, git and files, never an agent or a gate.
package struct MissionControl: Sendable {
    private let context: ControlContext
    private let processTable: (any ProcessTable)?

    package init(
        ledger: any MissionLedger,
        git: any GitRepository,
        processTable: (any ProcessTable)?,
        layout: MissionLayout,
        sink: any MissionEventSink,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        context = ControlContext(ledger: ledger, git: git, layout: layout, sink: sink, now: now, probe: nil)
        self.processTable = processTable
    }

    private func record(_ id: MissionID) async throws -> MissionRecord {
        guard let record = try await context.ledger.mission(id) else {
            throw FlotillaError.notFound("no mission \(id) in this repository's ledger (see `flotilla list`)")
        }
        return record
    }

    /// Ends a mission whose process is gone (it crashed, or `stop` had to kill it).
    ///
    /// Recovers what the process left and records the mission as `reason`; a later `resume` continues it.
    package func settle(_ id: MissionID, as reason: StopReason, summary: String) async throws {
        let record = try await record(id)
        let recovery = MissionRecovery(context: context, processTable: processTable)
        try recovery.ensureNotRunningElsewhere(record)
        let actions = try await recovery.reconcile(record)
        try await context.record(.recovered(actions: actions), mission: id)
        try await context.record(.missionFinished(reason, summary: summary), mission: id)
    }

    /// A daemon at its `--max-running` holds a new mission, `ahead` others before it.
    package func queue(_ id: MissionID, ahead: Int, maxRunning: Int) async throws {
        try await context.record(.missionQueued(ahead: ahead, maxRunning: maxRunning), mission: id)
    }

    /// A queued mission's turn came; the daemon starts it next.
    package func dequeue(_ id: MissionID) async throws {
        let record = try await record(id)
        let waited = record.queuedAt.map { max(0, context.now().timeIntervalSince($0)) } ?? 0
        try await context.record(.missionDequeued(waitedSeconds: waited), mission: id)
    }

    /// `flotilla step`: the mission's next run starts at most `attempts` more attempts, then pauses (`step_limit`).
    package func allowStep(_ id: MissionID, attempts: Int) async throws {
        let record = try await record(id)
        try Self.requireResumable(record)
        try await context.record(.stepAllowed(attempts: attempts, pauseAfter: record.attempts + attempts), mission: id)
    }

    /// A person ends a mission that is not running for good: `terminated` (never resumed) or `forcedComplete`
    /// (completed, what did not land waived).
    package func conclude(_ id: MissionID, as reason: StopReason, summary: String) async throws {
        let record = try await record(id)
        if record.state == .running {
            throw FlotillaError.conflict("mission \(id) is running; stop it first")
        }
        try Self.requireResumable(record)
        try await context.record(.missionFinished(reason, summary: summary), mission: id)
    }

    /// Refuses a mission that ended for good: completed, or terminated.
    package static func requireResumable(_ record: MissionRecord) throws {
        guard let reason = record.stopReason, !reason.isResumable else { return }
        throw FlotillaError.conflict(
            "mission \(record.spec.id) is \(reason.outcomeDescription) and cannot go on; start a new mission "
                + "(`flotilla run`)"
        )
    }

    /// A human releases blocked groups (all of them when `groups` is empty), with the dependents blocked because
    /// of them; returns the groups released.
    package func approve(_ id: MissionID, groups requested: [String]) async throws -> [String] {
        _ = try await record(id)
        let groups = try await context.ledger.groups(of: id)
        let blocked = Set(groups.filter { $0.status == .blocked }.map(\.id))
        for group in requested where !blocked.contains(group) {
            guard groups.contains(where: { $0.id == group }) else {
                throw FlotillaError.invalid("mission \(id) has no group `\(group)`")
            }
            throw FlotillaError.conflict("group `\(group)` of mission \(id) is not blocked")
        }
        var released = requested.isEmpty ? blocked : Set(requested)
        // Dependents blocked only because of a released group come with it.
        var changed = true
        while changed {
            changed = false
            for group in groups where blocked.contains(group.id) && !released.contains(group.id) {
                if group.dependsOn.contains(where: released.contains) {
                    released.insert(group.id)
                    changed = true
                }
            }
        }
        let ordered = groups.map(\.id).filter(released.contains)
        guard !ordered.isEmpty else { return [] }
        try await context.record(.groupsApproved(ordered), mission: id)
        return ordered
    }

    /// What of the mission waits for a human (`--approve`): verified landings, or the finished mission.
    package func waitingApprovals(_ id: MissionID) async throws -> [ApprovalRecord] {
        try await context.ledger.approvals(of: id).filter { $0.decision == nil }
    }

    /// Records `decision` for what waits (only the landings of `groups`, when given).
    ///
    /// Returns what was decided (`a#2`, or `mission`); the mission's loop reads it from the ledger.
    package func decide(_ id: MissionID, groups: [String], _ decision: ApprovalDecision) async throws -> [String] {
        _ = try await record(id)
        let waiting = try await waitingApprovals(id)
        guard !waiting.isEmpty else {
            throw FlotillaError.conflict(
                "nothing of mission \(id) waits for approval (it asks when it runs with --approve landings or final)"
            )
        }
        for group in groups where !waiting.contains(where: { $0.attempt?.group == group }) {
            throw FlotillaError.conflict(
                "group `\(group)` of mission \(id) has no landing waiting for approval (waiting: "
                    + waiting.map { $0.attempt?.description ?? "the finished mission" }.joined(separator: ", ") + ")"
            )
        }
        let chosen = groups.isEmpty ? waiting : waiting.filter { $0.attempt.map { groups.contains($0.group) } ?? false }
        for approval in chosen {
            try await context.record(.approvalDecided(approval.attempt, decision), mission: id)
        }
        return chosen.map { $0.attempt?.description ?? "mission" }
    }

    /// Records what the supervisor noticed and did about a mission whose process died.
    package func noteCrash(_ id: MissionID, _ crash: CrashNotice) async throws {
        try await context.record(.crashNoticed(crash), mission: id)
    }
}
