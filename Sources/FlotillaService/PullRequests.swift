import FlotillaAPI
import FlotillaCore
import FlotillaSystem
import Foundation

/// `flotilla land --open-pr`: a pull request from the mission's pushed target branch, opened with GitHub's `gh`,
/// the mission's report as its body.
package struct PullRequests: Sendable {
    let composition: Composition

    package init(composition: Composition) {
        self.composition = composition
    }

    /// Opens the pull request of `mission` (its target branch, which must be on a remote) against `base`; returns what
    /// `gh` printed (the pull request's URL).
    package func open(in root: String, mission: MissionDTO, base: String, body: String) async throws -> String {
        // gh reads its login from its own configuration or these variables; nothing else of the environment.
        let environment = EnvironmentPolicy().allowing([
            "GH_TOKEN", "GITHUB_TOKEN", "GH_HOST", "GH_REPO", "XDG_CONFIG_HOME",
        ])
        .environment(from: composition.environment)
        guard (try? ExecutableLocator.locate("gh", environment: environment, workingDirectory: root)) != nil else {
            throw FlotillaError.invalid(
                "--open-pr needs GitHub's gh on PATH, logged in (`gh auth login`); or land locally with --onto"
            )
        }
        let bodyFile = NSTemporaryDirectory() + "flotilla-pr-\(mission.id)-\(UUID().uuidString.prefix(6)).md"
        try body.write(toFile: bodyFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: bodyFile) }
        let result = try await composition.processes.run(
            ProcessRequest(
                executable: "gh",
                arguments: [
                    "pr", "create", "--base", base, "--head", mission.targetBranch, "--title",
                    "Flotilla: \(mission.goal)", "--body-file", bodyFile,
                ],
                workingDirectory: root,
                environment: environment,
                timeout: .seconds(120)
            )
        )
        guard result.termination.isSuccess else {
            let said = result.outputTail.trimmingCharacters(in: .whitespacesAndNewlines)
            throw FlotillaError.invalid("gh pr create failed (\(result.termination)): \(said.prefix(400))")
        }
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
