import FlotillaCore
import Foundation

/// The gate: the mission's trusted verify command (or the group's check) on a clean checkout of exactly the judged
/// commit, in a directory the agent never had.
struct GateStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        let context = environment.context
        let plan = state.plan
        let layout = environment.layout
        let checkout = layout.gateWorktree(plan.mission, plan.slot)
        let deferred = try await Self.newTests(of: state, environment)
        var decided = state.judged
        if !deferred.isEmpty {
            let git = environment.git
            let tree = try await git.tree(
                try await git.tree(of: state.judged),
                restoring: deferred,
                from: plan.startCommit
            )
            decided = try await git.commitTree(
                tree,
                parents: [plan.startCommit],
                message: "\(plan.key) without the tests it added",
                author: .flotilla
            )
            environment.update(.newTestsDeferred(deferred))
        }
        try await context.checkout(decided, into: checkout, mission: plan.mission, judging: true)
        let verification = try await context.gate.verify(
            kind: .gate,
            attempt: plan.key,
            commit: state.judged,
            in: checkout,
            groups: [plan.key.group],
            logPath: layout.gateLog(plan.mission, plan.key, .gate)
        )
        try Task.checkCancellation()
        state.verification = verification
        // With a reviewer, a passing attempt may land only once its review is recorded.
        let reviewFollows = verification.passed && ReviewStep.reviews(plan.key, environment)
        environment.update(.gateFinished(verification, reviewFollows: reviewFollows))
        return .next
    }
}

extension GateStep {
    /// The test files the attempt added, which its gate runs without.
    ///
    /// A test module is code the runner imports, and one added now could patch the code under test (or the runner)
    /// so that the base's tests pass. They run in the regression verify of the attempt's landing, which runs the whole
    /// tree, so nothing lands whose tests fail.
    ///
    /// A file the verify command (or the group's check) names is kept: the command needs it. Paths the group's `Allow:`
    /// line opens, and every test under `--allow-test-edits`, are judged as the agent wrote them.
    static func newTests(of state: AttemptState, _ environment: AttemptEnvironment) async throws -> [String] {
        let mission = environment.mission
        guard state.commit != nil, mission.options.allowTestEdits != true else { return [] }
        let group = mission.checklist.group(state.key.group)
        let tests = TestFiles(allowed: group?.allow ?? [])
        // Named as a word of the command (or a path in it), not merely spelled somewhere inside it.
        let named = Set(
            [mission.verifyCommand, group?.check].compactMap { $0 }.flatMap { command in
                ShellWords.split(command) + ShellWords.repositoryPaths(in: command)
            }
        )
        var added: [String] = []
        for path in state.changes?.paths ?? [] where tests.isProtected(path) {
            guard !named.contains(path) else { continue }
            if try await environment.git.fileMode(at: state.plan.startCommit, path: path) == nil,
                try await environment.git.fileMode(at: state.judged, path: path) != nil
            {
                added.append(path)
            }
        }
        return added
    }
}

extension AttemptState {
    /// The attempt's changed paths and the start of its patch, for a critic or a reviewer to read.
    func changeSummary(_ layout: MissionLayout) -> String {
        let patch = (try? String(contentsOfFile: layout.patch(plan.mission, key), encoding: .utf8)) ?? ""
        let changed = changes.map { "\($0.paths.joined(separator: ", ")) (\($0.stat))\n" } ?? ""
        return changed + String(patch.prefix(4000))
    }

    /// The end of the gate's output, as much as a prompt takes.
    var gateOutput: String { String((verification?.outputTail ?? "").suffix(Feedback.tailForPrompt)) }
}
