import FlotillaCore
import Foundation

/// Holds a change that reaches into what grades it (``GraderGuard``), before its gate; the agent is told why.
///
/// With `--grader-reach hold` it is judged as usual instead, and waits for a person before it lands.
///
/// What reaches in: the test runners' configuration and plugins, Python's start-up hooks, a module named like the tool
/// that runs the tests, or added code that ends the run early or reads Flotilla's variables.
struct GraderGuardStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        guard let commit = state.commit, let paths = state.changes?.paths, !paths.isEmpty else { return .next }
        let git = environment.git
        let start = state.plan.startCommit
        let group = environment.mission.checklist.group(state.key.group)
        let guardian = GraderGuard(allowed: group?.allow ?? [])
        // How each path changed matters only for the few a runner loads by name; the rest count as changed.
        var changes: [(path: String, change: GraderGuard.Change)] = []
        for path in paths {
            guard GraderGuard.isNamedByRunners(path) else {
                changes.append((path, .modified))
                continue
            }
            let before = try await git.fileMode(at: start, path: path) != nil
            let after = try await git.fileMode(at: commit, path: path) != nil
            changes.append((path, before ? (after ? .modified : .deleted) : .added))
        }
        let patch = try await git.diff(from: start, to: commit)
        var contents: [String: (base: String?, new: String?)] = [:]
        for (path, _) in changes where GraderGuard.sharesConfiguration(path) {
            contents[path] = (
                try await git.fileContents(at: start, path: path), try await git.fileContents(at: commit, path: path)
            )
        }
        let reaches = guardian.check(
            changes,
            added: GraderGuard.addedLines(inPatch: patch),
            base: { contents[$0]?.base ?? nil },
            new: { contents[$0]?.new ?? nil }
        )
        guard !reaches.isEmpty else { return .next }
        let list = reaches.map(\.description).joined(separator: "; ")
        if environment.mission.options.graderReach == .hold {
            // Judged as usual; if it passes, a person decides before it lands.
            state.held = "it reaches into the grader: \(list)"
            return .next
        }
        return .end(
            .failed(outcome: .rejected, reason: "reaches into the grader: \(list)", feedback: Feedback.grader(reaches))
        )
    }
}
