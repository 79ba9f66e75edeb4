import Foundation

/// A mission as the ledger holds it.
package struct MissionRecord: Sendable, Equatable {
    package var spec: MissionSpec
    package var state: MissionState
    package var stopReason: StopReason?
    package var breakerDetail: String?
    package var createdAt: Date
    package var startedAt: Date?
    package var finishedAt: Date?
    package var spentUSD: Double
    package var attempts: Int
    package var groupsDone: Int
    package var groupsTotal: Int
    /// The process running the mission (or that ran it last), to tell a live mission from a crashed one.
    package var runner: ProcessIdentity?
    /// Time spent running, over all runs so far; time spent stopped or crashed does not count.
    package var runningSeconds: Double
    /// `flotilla step`'s allowance: the mission pauses once this many attempts have started in all (cleared when
    /// the run ends).
    package var pauseAfterAttempts: Int?
    /// When a daemon's `--max-running` queued it, while it waits for its turn; nil once it is let through.
    package var queuedAt: Date?

    package init(
        spec: MissionSpec,
        state: MissionState,
        stopReason: StopReason?,
        breakerDetail: String?,
        createdAt: Date,
        startedAt: Date?,
        finishedAt: Date?,
        spentUSD: Double,
        attempts: Int,
        groupsDone: Int,
        groupsTotal: Int,
        runner: ProcessIdentity? = nil,
        runningSeconds: Double = 0,
        pauseAfterAttempts: Int? = nil,
        queuedAt: Date? = nil
    ) {
        self.spec = spec
        self.state = state
        self.stopReason = stopReason
        self.breakerDetail = breakerDetail
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.spentUSD = spentUSD
        self.attempts = attempts
        self.groupsDone = groupsDone
        self.groupsTotal = groupsTotal
        self.runner = runner
        self.runningSeconds = runningSeconds
        self.pauseAfterAttempts = pauseAfterAttempts
        self.queuedAt = queuedAt
    }

    /// Created, and waiting in a daemon's queue for its turn to run.
    package var isQueued: Bool { state == .created && queuedAt != nil }
}
