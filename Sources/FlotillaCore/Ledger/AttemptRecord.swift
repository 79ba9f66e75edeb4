import Foundation

/// An attempt as the ledger holds it.
package struct AttemptRecord: Sendable, Equatable {
    package var key: AttemptKey
    /// Order of dispatch within the mission (1, 2, 3…).
    package var sequence: Int
    package var slot: Int
    package var backend: String
    package var phase: AttemptPhase
    package var outcome: AttemptOutcome?
    package var reason: String?
    /// What the next attempt on this group is told about this one.
    package var feedback: String?
    package var startCommit: String
    package var commit: String?
    package var landedCommit: String?
    package var branch: String
    package var worktree: String
    package var promptPath: String
    package var transcriptPath: String
    package var exitCode: Int?
    package var usage: Usage
    package var diff: DiffStat?
    /// What its gate showed passing of the group's criteria (the ledger keeps the count).
    package var criteria: CriteriaScore?
    package var startedAt: Date
    package var agentSeconds: Double?
    package var gateSeconds: Double?
    package var finishedAt: Date?
    /// The sandbox the attempt's session and gate ran in (`bwrap, network allowlist, verify network none`); nil for
    /// attempts from before sandboxes were recorded.
    package var sandbox: String?

    package init(
        key: AttemptKey,
        sequence: Int,
        slot: Int,
        backend: String,
        phase: AttemptPhase,
        outcome: AttemptOutcome?,
        reason: String?,
        feedback: String?,
        startCommit: String,
        commit: String?,
        landedCommit: String?,
        branch: String,
        worktree: String,
        promptPath: String,
        transcriptPath: String,
        exitCode: Int?,
        usage: Usage,
        diff: DiffStat?,
        criteria: CriteriaScore?,
        startedAt: Date,
        agentSeconds: Double?,
        gateSeconds: Double?,
        finishedAt: Date?,
        sandbox: String? = nil
    ) {
        self.sandbox = sandbox
        self.key = key
        self.sequence = sequence
        self.slot = slot
        self.backend = backend
        self.phase = phase
        self.outcome = outcome
        self.reason = reason
        self.feedback = feedback
        self.startCommit = startCommit
        self.commit = commit
        self.landedCommit = landedCommit
        self.branch = branch
        self.worktree = worktree
        self.promptPath = promptPath
        self.transcriptPath = transcriptPath
        self.exitCode = exitCode
        self.usage = usage
        self.diff = diff
        self.criteria = criteria
        self.startedAt = startedAt
        self.agentSeconds = agentSeconds
        self.gateSeconds = gateSeconds
        self.finishedAt = finishedAt
    }
}
