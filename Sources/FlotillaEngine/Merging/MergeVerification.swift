import FlotillaCore
import Foundation

/// The first half of a landing round: merge the candidates onto the target head without a working tree, squash them
/// into one commit, and regression-verify that exact commit in the staging checkout.
///
/// It answers `.mergeVerified` when the verify passed (the loop records that before anything moves the branch, then
/// starts ``TargetMove``), else `.mergeEnded` with what stopped the round.
///
/// A round of one candidate gives one commit per group; several waiting candidates share one verify, which the landing
/// line splits in halves when it fails, until the candidate that breaks things is alone.
struct MergeVerification: ChildWork {
    let mission: MissionSpec
    let candidates: [MergeCandidate]
    /// The target head and its tree as the loop knows them.
    let head: String
    let headTree: String
    /// Groups landed before this round; the regression verify checks them together with the candidates' groups.
    let landedGroups: [String]

    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        var round = MergeRound()
        let keys = candidates.map(\.key)
        do {
            return try await AttemptContext.$current.withValue(keys) {
                try await execute(&round, environment.context)
            }
        } catch {
            round.outcome = Task.isCancelled || error is CancellationError ? .cancelled : .error("landing: \(error)")
            return .mergeEnded(round)
        }
    }

    private func execute(_ round: inout MergeRound, _ context: EngineContext) async throws -> LoopEvent {
        let git = context.git
        // Stack the candidates: each merges onto the previous result (intermediate commits stay unreferenced).
        var stack = head
        var tree = headTree
        for candidate in candidates {
            switch try await git.mergeTree(ours: stack, theirs: candidate.commit) {
            case .conflicted(let files, let messages):
                if round.included.isEmpty {
                    round.conflicts.append((candidate, files, messages))
                } else {
                    round.deferred.append(candidate)
                }
            case .clean(let merged):
                round.included.append(candidate)
                tree = merged
                if candidates.count > 1 {
                    stack = try await git.commitTree(merged, parents: [stack], message: "stack", author: .flotilla)
                }
            }
        }
        guard !round.included.isEmpty else { return .mergeEnded(round) }
        context.probe?.mark(.checkpoint("merge.tree-written"))
        // The work may already be on the target (agents that changed nothing): verify the head itself.
        var landing = head
        if tree != headTree {
            landing = try await git.commitTree(
                tree,
                parents: [head],
                message: message(round.included),
                author: .flotilla
            )
        }
        let staging = context.layout.stagingWorktree(mission.id)
        try await context.checkout(landing, into: staging, mission: mission.id, judging: true)
        let first = round.included[0].key
        let verification = try await context.gate.verify(
            kind: .regression,
            attempt: first,
            commit: landing,
            in: staging,
            groups: round.included.map(\.key.group),
            alsoLanded: landedGroups,
            logPath: context.layout.gateLog(mission.id, first, .regression)
        )
        try Task.checkCancellation()
        guard verification.passed else {
            round.outcome = .regression(verification)
            return .mergeEnded(round)
        }
        round.outcome = .landed(commit: landing, tree: tree, regression: verification)
        return .mergeVerified(round)
    }

    private func message(_ unordered: [MergeCandidate]) -> String {
        // Groups in checklist order, whatever order their gates passed in.
        let position = Dictionary(uniqueKeysWithValues: mission.checklist.groupIDs.enumerated().map { ($1, $0) })
        let included = unordered.sorted { position[$0.key.group, default: 0] < position[$1.key.group, default: 0] }
        let groups = included.compactMap { mission.checklist.group($0.key.group) }
        var lines: [String]
        if included.count == 1, let group = groups.first {
            lines = [
                group.title, "",
                "Lands group `\(group.id)` of Flotilla mission \(mission.id) (attempt \(included[0].key.number)).", "",
            ]
            if !group.criteria.isEmpty {
                lines.append("Criteria:")
                lines += group.criteria.map { "- \($0)" }
                lines.append("")
            }
        } else {
            lines = [
                "Land \(included.count) groups: " + included.map(\.key.group).joined(separator: ", "), "",
                "Lands, verified together, these groups of Flotilla mission \(mission.id):",
            ]
            lines += groups.map { "- `\($0.id)` — \($0.title)" }
            lines.append("")
        }
        lines.append("Flotilla-Mission: \(mission.id)")
        for candidate in included {
            lines.append("Flotilla-Group: \(candidate.key.group)")
            lines.append("Flotilla-Attempt: \(candidate.key)")
            lines.append("Flotilla-Source: \(candidate.commit)")
        }
        return lines.joined(separator: "\n")
    }
}

/// The second half of a landing round, once its verify is recorded: the target branch moves.
///
/// It moves to the verified commit by compare-and-swap with the head the loop knows. Anything else that moved the
/// branch meanwhile is put back (and told, for the record), never merged onto.
struct TargetMove: ChildWork {
    static let compareAndSwapRetries = 3

    let mission: MissionSpec
    let round: MergeRound
    let head: String

    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        // The processes of a landing work for its candidates, as the verify's did.
        await AttemptContext.$current.withValue(round.included.map(\.key)) { await move(environment, tell: tell) }
    }

    private func move(_ environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent
    {
        var round = self.round
        guard case .landed(let landing, _, _) = round.outcome else { return .mergeEnded(round) }
        let context = environment.context
        do {
            for _ in 0..<Self.compareAndSwapRetries {
                let moved =
                    landing == head
                    ? true : try await context.git.updateRef(mission.targetBranch, to: landing, expecting: head)
                if moved {
                    context.probe?.mark(.checkpoint("merge.ref-updated"))
                    return .mergeEnded(round)
                }
                if let restored = try await TargetGuard(spec: mission, git: context.git)
                    .ensure(at: head, reason: "while landing")
                {
                    tell(.targetRestored(restored))
                }
            }
            round.outcome = .error(
                "the target branch \(mission.targetBranch) kept moving while landing; is something else writing to it?"
            )
        } catch {
            round.outcome = Task.isCancelled || error is CancellationError ? .cancelled : .error("landing: \(error)")
        }
        return .mergeEnded(round)
    }
}
