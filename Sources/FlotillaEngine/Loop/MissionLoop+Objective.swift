import FlotillaCore
import Foundation

/// What the objective check decided about the mission's end.
enum ObjectiveStep {
    /// Groups were added: back to dispatching.
    case added
    /// Go on to the final verify.
    case goOn
    /// The mission was stopped while a human was asked.
    case stopped
}

/// `--objective-check`: before the final verify, a model judges the goal and may add groups.
extension MissionLoop {
    mutating func checkObjective() async throws -> ObjectiveStep {
        guard let objective = context.objective, let limit = spec.options.objectiveGroupLimit, !objectiveSettled
        else { return .goOn }
        let added = try await context.ledger.groups(of: spec.id).filter { $0.addedBy != nil }.count
        guard added < limit else { return .goOn }
        let diff = (try? await context.git.diff(from: spec.baseCommit, to: targetHead)) ?? ""
        let (verdict, call) = await objective.check(
            goal: spec.goal,
            checklist: spec.checklist,
            diff: diff,
            limit: limit - added
        )
        try await context.record(.modelCalled(call), mission: spec.id)
        spentUSD += call.usage.costUSD
        let proposes = verdict.met == false && !verdict.proposed.isEmpty
        let putToHuman = proposes && spec.options.approvalMode == .final
        try await context.record(.objectiveChecked(verdict, putToHuman: putToHuman), mission: spec.id)
        guard proposes else {
            objectiveSettled = true
            return .goOn
        }
        if putToHuman {
            let titles = verdict.proposed.map { "\($0.id) (\($0.title))" }.joined(separator: ", ")
            let question = "the objective check's proposal to add \(titles)"
            guard let decision = try await awaitMissionDecision(question) else { return .stopped }
            guard decision.approved else {
                objectiveSettled = true
                return .goOn
            }
        }
        try await addGroups(verdict.proposed, by: "objective check")
        return .added
    }

    /// Adds groups to the running mission: the ledger first (they survive a crash), then the loop's checklist, progress
    /// and footprints.
    mutating func addGroups(_ groups: [ChecklistGroup], by: String) async throws {
        var checklist = spec.checklist
        checklist.groups += groups
        try await context.record(.groupsAdded(groups, checklist: checklist, by: by), mission: spec.id)
        spec.checklist = checklist
        progress = MissionProgress(try await context.ledger.groups(of: spec.id).map(\.progress))
        for group in groups where !group.files.isEmpty { footprints?.learn(group.id, touched: group.files) }
        context.probe?.mark(.ready(progress.frontier))
    }
}
