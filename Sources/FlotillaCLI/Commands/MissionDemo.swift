import ArgumentParser
import FlotillaAPI
import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaService
import Foundation

extension Flotilla {
    struct MissionDemo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo",
            abstract: "Run a simulated mission on a bundled project in a temporary repository (offline, seconds).",
            discussion: """
                Creates a small git repository with a checklist of five groups and a verify script, then runs \
                three simulated agents over it. Watch a gate failure get fixed, an edit to the verify script get \
                rejected, a merge conflict get redone, and dependent groups wait their turn. The repository is \
                kept so you can inspect it with `flotilla status --repo DIR` and `git log`.
                """
        )

        @Option(name: .long, help: "Output format: table for people, json for scripts.")
        var output: OutputFormat = .table

        @Option(help: "Where to create the demo (default: a new temporary directory).")
        var dir: String?

        @Option(help: "Agents working in parallel.")
        var agents: Int = 3

        func validate() throws {
            guard agents >= 1 else { throw ValidationError("--agents must be at least 1") }
        }

        func run() async throws {
            let composition = Composition()
            let base =
                dir.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
                ?? (NSTemporaryDirectory() as NSString).appendingPathComponent(
                    "flotilla-demo-\(UUID().uuidString.prefix(8).lowercased())"
                )
            let repository = (base as NSString).appendingPathComponent("greeting-toolkit")
            let scenarioPath = (base as NSString).appendingPathComponent("scenario.json")
            if FileManager.default.fileExists(atPath: repository) {
                throw FlotillaError.invalid("\(repository) already exists; pass --dir with a new directory")
            }
            try await createRepository(at: repository, composition: composition)
            try DemoFixture.scenario.write(toFile: scenarioPath, atomically: true, encoding: .utf8)
            if output == .table {
                Console.out("Demo repository: \(repository)")
                Console.out("Scenario:        \(scenarioPath)")
                Console.out("")
            }

            let checklist = try ChecklistParser.parse(DemoFixture.checklist, file: "ACCEPTANCE.md")
            var fields = MissionFields()
            fields.verify = "./verify.sh"
            fields.agents = agents
            fields.scenario = scenarioPath
            fields.verifyTimeoutSeconds = 60
            fields.setLimits(
                MissionLimits(
                    maxCostUSD: 1,
                    maxWallClock: .seconds(300),
                    attemptTimeout: .seconds(60),
                    stallThreshold: 3
                )
            )
            let request = MissionRequest(
                checklist: checklist,
                checklistPath: (repository as NSString).appendingPathComponent("ACCEPTANCE.md"),
                backend: .simulate,
                fields: fields
            )
            let missions = try MissionRepository(composition: composition, root: repository, create: false)
            let mission = try await missions.create(request).spec.id
            let code = try await MissionFollowing(output: output, composition: composition).runHere(missions, mission)
            if output == .table {
                // After `swift run` the binary is not on PATH: name it in full.
                let binary = Bundle.main.executablePath ?? "flotilla"
                Console.out("")
                Console.out("Look around:")
                Console.out("  cd \(repository)")
                Console.out("  \(binary) status            # groups, attempts, costs")
                Console.out("  \(binary) history \(mission)   # every attempt and why it failed or landed")
                Console.out("  git log --oneline \(MissionLayout.defaultTargetBranch(mission))")
            }
            if code != 0 { throw MissionExit(code: code) }
        }

        private func createRepository(at path: String, composition: Composition) async throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for file in DemoFixture.files {
                let target = (path as NSString).appendingPathComponent(file.path)
                try file.contents.write(toFile: target, atomically: true, encoding: .utf8)
                if file.executable {
                    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: target)
                }
            }
            var environment = composition.childEnvironment()
            for key in ["GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"] { environment[key] = "Flotilla demo" }
            for key in ["GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"] { environment[key] = "demo@flotilla.localhost" }
            for arguments in [
                ["-c", "init.defaultBranch=main", "init", "--quiet"], ["add", "--all"],
                ["-c", "commit.gpgSign=false", "commit", "--quiet", "-m", "Greeting toolkit: checklist and gate"],
            ] {
                let result = try await composition.processes.run(
                    ProcessRequest(
                        executable: "git",
                        arguments: arguments,
                        workingDirectory: path,
                        environment: environment
                    )
                )
                guard result.termination.isSuccess else {
                    throw FlotillaError.invalid(
                        "could not create the demo repository: git \(arguments.joined(separator: " ")): \(result.standardError)"
                    )
                }
            }
        }
    }
}
