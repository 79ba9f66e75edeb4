import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// `flotilla init` writes configuration that `doctor` accepts and `run` uses; bad configuration fails with
/// file:line in both.
@Suite("flotilla init and doctor", .tags(.large), .timeLimit(.minutes(10)))
struct InitTests {
    static let key = "sk-ant-init-7d1e93b0c4a2f8"

    @Test func nonInteractiveInitWritesConfigDoctorAcceptsAndARunUsesIt() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let bin = try FakeAgents.install(in: fixture.scratch)
        let dump = fixture.scratch.file("env")
        try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
        let config = fixture.scratch.file("config")
        let environment = [
            "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
            "XDG_CONFIG_HOME": config, "FAKE_AGENT_ENV_DUMP": dump,
        ]
        // The key comes on stdin, so it is never on a command line.
        let initialise = try await FlotillaBinary.run(
            [
                "init", "--non-interactive", "--backend", "claude", "--model", "claude-sonnet-4-5",
                "--fallback-backend", "codex", "--planner-url", "http://127.0.0.1:9/v1", "--planner-model", "qwen3",
                "--key", "anthropic=-", "--verify", "./verify.sh", "--agents", "2", "--max-cost", "3", "--output",
                "json",
            ],
            in: fixture.repository.path,
            environment: environment,
            standardInput: Self.key + "\n"
        )
        #expect(initialise.exitCode == 0, "\(initialise.standardError)")
        let userFile = config + "/flotilla/config.toml"
        let written = try #require(
            try JSONSerialization.jsonObject(with: Data(initialise.standardOutput.utf8)) as? [String: String]
        )
        #expect(written["user_config"] == userFile)
        #expect(written["project_config"] == fixture.repository.path + "/flotilla.toml")
        let permissions = try FileManager.default.attributesOfItem(atPath: userFile)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        #expect(!initialise.standardOutput.contains(Self.key) && !initialise.standardError.contains(Self.key))

        let doctor = try await FlotillaBinary.run(
            ["doctor", "--output", "json"],
            in: fixture.repository.path,
            environment: environment
        )
        #expect(doctor.exitCode == 0, "\(doctor.standardOutput)\(doctor.standardError)")
        #expect(!doctor.standardOutput.contains(Self.key))
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(doctor.standardOutput.utf8)) as? [String: Any]
        )
        #expect((report["problems"] as? [String])?.isEmpty == true, "\(report["problems"] ?? "")")
        let settings = try #require(report["configuration"] as? [String: Any])
        #expect(settings["backend"] as? String == "claude")
        #expect(settings["fallbacks"] as? [String] == ["codex"])
        let keys = try #require(report["keys"] as? [[String: Any]])
        let anthropic = try #require(keys.first { $0["name"] as? String == "ANTHROPIC_API_KEY" })
        #expect((anthropic["source"] as? String)?.hasPrefix(userFile + ":") == true)

        // A run with no flags at all takes the agent, the verify command and the key from what init wrote.
        _ = try await fixture.repository.commitAll("flotilla.toml")
        let run = try await FlotillaBinary.run(
            ["run", "--sandbox-write", fixture.scratch.path, "--pass-env", "FAKE_AGENT_ENV_DUMP", "--output", "json"],
            in: fixture.repository.path,
            environment: environment
        )
        #expect(run.exitCode == 0, "\(run.standardError)")
        let audit = try await MissionAudit(fixture.repository)
        #expect(audit.mission.state == .completed)
        #expect(audit.mission.spec.backend == "claude" && audit.mission.spec.limits.maxCostUSD == 3)
        let session = try String(contentsOfFile: dump + "/claude-a-1.env", encoding: .utf8)
        #expect(session.contains("ANTHROPIC_API_KEY=\(Self.key)\n"))
    }

    @Test func theWizardAsksForWhatFlagsLeaveOutAndAnAnswerThatDoesNotReadWritesNothing() async throws {
        let fixture = try await MissionFixture(
            checklist: "# One\n\n## A\n- [ ] a\n",
            groups: ["a"],
            extraFiles: ["Cargo.toml": "[package]\nname = \"x\"\n"]
        )
        defer { fixture.remove() }
        let config = fixture.scratch.file("config")
        // backend, its command, planner none, critic openai + root + model, verify (the suggestion), agents,
        // budget, then yes.
        let answers = "command\nsh agent.sh\nnone\nopenai\nhttp://127.0.0.1:8/v1\nqwen\n\n3\n2.5\ny\n"
        let wizard = try await FlotillaBinary.run(
            ["init"],
            in: fixture.repository.path,
            environment: ["XDG_CONFIG_HOME": config, "PATH": "/usr/bin:/bin"],
            standardInput: answers
        )
        #expect(wizard.exitCode == 0, "\(wizard.standardError)")
        #expect(wizard.standardError.contains("Verify command for this project (exit 0 passes) [cargo test]"))
        let user = try String(contentsOfFile: config + "/flotilla/config.toml", encoding: .utf8)
        #expect(user.contains("[agent]\nbackend = 'command'\ncommand = 'sh agent.sh'\n"))
        #expect(user.contains("[critic]\napi = 'openai'\nurl = 'http://127.0.0.1:8/v1'\nmodel = 'qwen'\n"))
        #expect(!user.contains("[planner]"))
        let project = try String(contentsOfFile: fixture.repository.path + "/flotilla.toml", encoding: .utf8)
        #expect(project.contains("[run]\nverify = 'cargo test'\nagents = 3\nmax_cost_usd = 2.5\n"))

        let other = fixture.scratch.file("other")
        let refused = try await FlotillaBinary.run(
            ["init", "--force"],
            in: fixture.repository.path,
            environment: ["XDG_CONFIG_HOME": other, "PATH": "/usr/bin:/bin"],
            standardInput: "clauude\n"
        )
        #expect(refused.exitCode == 2)
        #expect(refused.standardError.contains("clauude is not one of"), "\(refused.standardError)")
        #expect(!FileManager.default.fileExists(atPath: other + "/flotilla/config.toml"))
        let unchanged = try String(contentsOfFile: fixture.repository.path + "/flotilla.toml", encoding: .utf8)
        #expect(unchanged == project)
    }

    @Test func doctorNamesAPlannerOrCriticCLIThatIsNotInstalled() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let config = fixture.scratch.file("config")
        try FileManager.default.createDirectory(atPath: config + "/flotilla", withIntermediateDirectories: true)
        try "[planner]\napi = 'codex'\n".write(
            toFile: config + "/flotilla/config.toml",
            atomically: true,
            encoding: .utf8
        )
        let doctor = try await FlotillaBinary.run(
            ["doctor"],
            in: fixture.repository.path,
            environment: ["XDG_CONFIG_HOME": config, "PATH": "/usr/bin:/bin"]
        )
        #expect(doctor.exitCode == 1)
        #expect(doctor.standardOutput.contains("the planner is the codex CLI, and codex is not installed"))
    }

    @Test(arguments: [
        ("[agent]\nbackend = 'claude'\nmodle = 'x'\n", "config.toml:3: unknown key agent.modle"),
        ("[run]\nagents = 'two'\n", "config.toml:2: agents must be an integer"),
        ("[keys]\nopenai = 42\n", "config.toml:2: keys.openai must be a non-empty string"),
    ])
    func aBadConfigFailsDoctorAndRunWithFileAndLine(_ text: String, _ expected: String) async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let config = fixture.scratch.file("config")
        try FileManager.default.createDirectory(atPath: config + "/flotilla", withIntermediateDirectories: true)
        try text.write(toFile: config + "/flotilla/config.toml", atomically: true, encoding: .utf8)
        let doctor = try await FlotillaBinary.run(
            ["doctor"],
            in: fixture.repository.path,
            environment: ["XDG_CONFIG_HOME": config]
        )
        #expect(doctor.exitCode == 1)
        #expect(doctor.standardOutput.contains(expected), "\(doctor.standardOutput)")
        let run = try await FlotillaBinary.run(
            ["run", "--sandbox-write", fixture.scratch.path, "--agent-command", "true", "--verify", "./verify.sh"],
            in: fixture.repository.path,
            environment: ["XDG_CONFIG_HOME": config]
        )
        #expect(run.exitCode == 2)
        #expect(run.standardError.contains(expected), "\(run.standardError)")
        #expect(!FileManager.default.fileExists(atPath: fixture.repository.path + "/.flotilla/ledger.sqlite"))
    }
}
