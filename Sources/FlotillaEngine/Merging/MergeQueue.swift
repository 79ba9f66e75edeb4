import FlotillaCore
import Foundation

/// An attempt whose gate passed, waiting to land.
struct MergeCandidate: Sendable, Equatable {
    var key: AttemptKey
    var commit: String
    var criteriaPassed: Int?
}

enum MergeResult: Sendable {
    case landed(commit: String, regression: Verification)
    case conflict(files: [String], messages: String)
    case regression(Verification)
    case cancelled
    case error(String)
}

/// Lands one candidate: merge onto the current target head without a working tree, regression-verify that
/// exact commit in the staging worktree, then move the target branch by compare-and-swap.
///
/// The loop runs one landing at a time, which makes the queue serial: every landing is verified on top of the
/// previous one.
struct MergeExecution: Sendable {
    static let compareAndSwapRetries = 3

    let mission: MissionSpec
    let candidate: MergeCandidate
    let title: String
    let criteria: [String]
    /// Groups landed before this one; the regression verify checks them together with the candidate's group.
    let landedGroups: [String]
    let context: EngineContext

    func run() async -> MergeResult {
        do {
            return try await execute()
        } catch {
            if Task.isCancelled || error is CancellationError { return .cancelled }
            return .error("merge of \(candidate.key): \(error)")
        }
    }

    private func execute() async throws -> MergeResult {
        let git = context.git
        let key = candidate.key
        var recordedStart = false
        for _ in 0..<Self.compareAndSwapRetries {
            guard let head = try await git.resolveCommit("refs/heads/\(mission.targetBranch)") else {
                return .error("the target branch \(mission.targetBranch) no longer exists")
            }
            if !recordedStart {
                try await context.record(.mergeStarted(key, targetHead: head), mission: mission.id)
                recordedStart = true
            }
            let merged: String
            switch try await git.mergeTree(ours: head, theirs: candidate.commit) {
            case .conflicted(let files, let messages):
                return .conflict(files: files, messages: messages)
            case .clean(let tree):
                // The work may already be on the target (an agent that changed nothing): verify the head itself.
                let headTree = try await git.tree(of: head)
                if tree == headTree {
                    merged = head
                } else {
                    merged = try await git.commitTree(tree, parents: [head], message: message(), author: .flotilla)
                }
            }
            let staging = context.layout.stagingWorktree(mission.id)
            try await git.checkoutDetached(worktree: staging, at: merged)
            let verification = try await context.gate.verify(
                kind: .regression,
                attempt: key,
                commit: merged,
                in: staging,
                groups: landedGroups + [key.group],
                logPath: context.layout.gateLog(mission.id, key, .regression)
            )
            try Task.checkCancellation()
            guard verification.passed else { return .regression(verification) }
            if merged == head { return .landed(commit: head, regression: verification) }
            if try await git.updateRef(mission.targetBranch, to: merged, expecting: head) {
                return .landed(commit: merged, regression: verification)
            }
            // Someone else moved the target branch: merge again onto its new head.
        }
        return .error(
            "the target branch \(mission.targetBranch) kept moving while landing \(key); is something else writing to it?"
        )
    }

    private func message() -> String {
        var lines = [
            title, "",
            "Lands group `\(candidate.key.group)` of Flotilla mission \(mission.id) (attempt \(candidate.key.number)).",
            "",
        ]
        if !criteria.isEmpty {
            lines.append("Criteria:")
            lines += criteria.map { "- \($0)" }
            lines.append("")
        }
        lines += [
            "Flotilla-Mission: \(mission.id)",
            "Flotilla-Group: \(candidate.key.group)",
            "Flotilla-Attempt: \(candidate.key.number)",
            "Flotilla-Source: \(candidate.commit)",
        ]
        return lines.joined(separator: "\n")
    }
}
