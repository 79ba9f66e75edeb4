import FlotillaCore
import Foundation
import GRDB

/// An `attempts` row.
struct AttemptRow: LedgerRow {
    var missionId: String
    var groupId: String
    var number: Int
    var sequence: Int
    var slot: Int
    var backend: String
    var phase: String
    var outcome: String?
    var reason: String?
    var feedback: String?
    var startCommit: String
    var commitSha: String?
    var landedCommit: String?
    var branch: String
    var worktree: String
    var promptPath: String
    var transcriptPath: String
    var exitCode: Int?
    var inputTokens: Int
    var outputTokens: Int
    var cacheReadTokens: Int
    var cacheWriteTokens: Int
    var costUsd: Double
    var diffFiles: Int?
    var diffInsertions: Int?
    var diffDeletions: Int?
    var criteriaPassed: Int?
    var startedAt: Double
    var agentSeconds: Double?
    var gateSeconds: Double?
    var finishedAt: Double?
    var sandbox: String?

    var key: AttemptKey { AttemptKey(group: groupId, number: number) }
    var name: String { "attempts of \(missionId) \(key)" }

    func record() throws -> AttemptRecord {
        AttemptRecord(
            key: key,
            sequence: sequence,
            slot: slot,
            backend: backend,
            phase: try known(phase, "phase"),
            outcome: try outcome.map { try known($0, "outcome") },
            reason: reason,
            feedback: feedback,
            startCommit: startCommit,
            commit: commitSha,
            landedCommit: landedCommit,
            branch: branch,
            worktree: worktree,
            promptPath: promptPath,
            transcriptPath: transcriptPath,
            exitCode: exitCode,
            usage: Usage(
                inputTokens: inputTokens,
                outputTokens: outputTokens,
                cacheReadTokens: cacheReadTokens,
                cacheWriteTokens: cacheWriteTokens,
                costUSD: costUsd
            ),
            diff: diffFiles.map { DiffStat(files: $0, insertions: diffInsertions ?? 0, deletions: diffDeletions ?? 0) },
            criteriaPassed: criteriaPassed,
            startedAt: Date(ledgerSeconds: startedAt),
            agentSeconds: agentSeconds,
            gateSeconds: gateSeconds,
            finishedAt: finishedAt.map(Date.init(ledgerSeconds:)),
            sandbox: sandbox
        )
    }
}
