import Foundation

/// The start of an attempt: its claim, worktree and files.
package struct AttemptStart: Sendable, Equatable {
    package var key: AttemptKey
    package var sequence: Int
    package var slot: Int
    package var backend: String
    package var startCommit: String
    package var branch: String
    package var worktree: String
    package var promptPath: String
    package var transcriptPath: String
    package var claimExpiresAt: Date
    /// The sandbox the session and the gate run in.
    package var sandbox: String?
    /// How many candidates of its group run at once (best of N); 1 for a plain attempt, which must be the group's
    /// only claim.
    package var roundSize = 1

    package init(
        key: AttemptKey,
        sequence: Int,
        slot: Int,
        backend: String,
        startCommit: String,
        branch: String,
        worktree: String,
        promptPath: String,
        transcriptPath: String,
        claimExpiresAt: Date,
        sandbox: String? = nil
    ) {
        self.sandbox = sandbox
        self.key = key
        self.sequence = sequence
        self.slot = slot
        self.backend = backend
        self.startCommit = startCommit
        self.branch = branch
        self.worktree = worktree
        self.promptPath = promptPath
        self.transcriptPath = transcriptPath
        self.claimExpiresAt = claimExpiresAt
    }
}
