import Foundation

/// What a mission is asked to do; fixed when it is created.
package struct MissionSpec: Sendable, Equatable, Codable {
    package var id: MissionID
    package var goal: String
    package var repository: String
    package var baseCommit: String
    package var targetBranch: String
    /// The trusted verify command, fixed at creation; agents never see or change this copy.
    package var verifyCommand: String?
    package var protectedPatterns: [String]
    package var agents: Int
    package var backend: String
    package var model: String?
    package var limits: MissionLimits
    package var checklist: Checklist
    /// Where the checklist came from (a file path), for messages.
    package var checklistSource: String
    /// How it runs: backend settings and options that `resume` needs again.
    package var options: MissionFields
    /// The pipelines its attempts run (`--pipeline`, groups' `Pipeline:` lines), as defined when it was created.
    package var pipelines: [Pipeline]

    package init(
        id: MissionID,
        goal: String,
        repository: String,
        baseCommit: String,
        targetBranch: String,
        verifyCommand: String?,
        protectedPatterns: [String],
        agents: Int,
        backend: String,
        model: String?,
        limits: MissionLimits,
        checklist: Checklist,
        checklistSource: String,
        options: MissionFields = MissionFields(),
        pipelines: [Pipeline] = []
    ) {
        self.id = id
        self.goal = goal
        self.repository = repository
        self.baseCommit = baseCommit
        self.targetBranch = targetBranch
        self.verifyCommand = verifyCommand
        self.protectedPatterns = protectedPatterns
        self.agents = agents
        self.backend = backend
        self.model = model
        self.limits = limits
        self.checklist = checklist
        self.checklistSource = checklistSource
        self.options = options
        self.pipelines = pipelines
    }

    /// The pipeline a group's attempts run: its `Pipeline:` line's, else the mission's; nil for one agent session.
    package func pipeline(of group: String) -> Pipeline? {
        guard let name = checklist.group(group)?.pipeline ?? options.pipeline else { return nil }
        return pipelines.first { $0.name == name }
    }
}
