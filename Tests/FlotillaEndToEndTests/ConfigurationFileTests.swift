import FlotillaAPI
import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("flotilla.toml and config.toml: defaults, precedence, errors", .tags(.large), .timeLimit(.minutes(10)))
struct ConfigurationFileTests {
    @Test func theProjectFileSuppliesDefaultsFlagsOverrideItAndTheUserFileIsBelowBoth() async throws {
        let fixture = try await MissionFixture(
            checklist: "# One\n\n## A\n- [ ] a\n\n## B\n- [ ] b\n",
            groups: ["a", "b"]
        )
        defer { fixture.remove() }
        let agent = try fixture.scratch.write(
            "agent.sh",
            "#!/bin/sh\necho \"$FLOTILLA_GROUP ok\" > \"$FLOTILLA_GROUP.txt\"\n",
            executable: true
        )
        try fixture.repository.write(
            "flotilla.toml",
            """
            # The project's settings.
            verify = "./verify.sh"
            protect = ["docs/**"]

            [run]
            agent_command = "sh \(agent)"
            agents = 2
            merge_batch = 1
            """
        )
        _ = try await fixture.repository.commitAll("settings")
        let home = fixture.scratch.file("config")
        try FileManager.default.createDirectory(atPath: home + "/flotilla", withIntermediateDirectories: true)
        // The user's file says 4 agents and a stall threshold; the project's 2 agents win, the threshold stays.
        try "[run]\nagents = 4\nstall_threshold = 7\nmax_cost_usd = 3\n".write(
            toFile: home + "/flotilla/config.toml",
            atomically: true,
            encoding: .utf8
        )
        let run = try await FlotillaBinary.run(
            ["run", "--sandbox-write", fixture.scratch.path, "--max-cost", "1.5", "--output", "json"],
            in: fixture.repository.path,
            environment: ["XDG_CONFIG_HOME": home]
        )
        #expect(run.exitCode == 0, "\(run.standardError)")
        let audit = try await MissionAudit(fixture.repository)
        let spec = audit.mission.spec
        #expect(spec.agents == 2)
        #expect(spec.verifyCommand == "./verify.sh")
        #expect(spec.limits.stallThreshold == 7)
        #expect(spec.limits.maxCostUSD == 1.5)
        #expect(spec.options.mergeBatch == 1)
        #expect(spec.protectedPatterns.contains("docs/**"))
        // flotilla.toml is protected like the verify script.
        #expect(spec.protectedPatterns.contains { $0.contains("flotilla.toml") })
        #expect(audit.mission.state == .completed)
    }

    @Test(arguments: [
        ("[run]\nagents = 2\ncolour = \"red\"\n", "flotilla.toml:3: unknown key colour"),
        ("[run]\nagents = \"two\"\n", "flotilla.toml:2: agents must be an integer"),
        ("[run]\nagents = 0\n", "flotilla.toml:2: agents must be between 1 and 64"),
        ("verify = ./verify.sh\n", "flotilla.toml:1: `./verify.sh` is not a value (strings need quotes)"),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\ninputs = ['b/plan.md']\n",
            "flotilla.toml:4: pipeline.f.a.inputs: b/plan.md reads step b, which does not run before a (no step does)"
        ),
    ])
    func aBadProjectFileIsAOneLineErrorAndNothingIsCreated(_ text: String, _ message: String) async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        try fixture.repository.write("flotilla.toml", text)
        let run = try await FlotillaBinary.run(
            ["run", "--sandbox-write", fixture.scratch.path, "--verify", "./verify.sh", "--agent-command", "true"],
            in: fixture.repository.path
        )
        #expect(run.exitCode == 2)
        #expect(run.standardError.hasPrefix("error: \(message)"), "\(run.standardError)")
        #expect(run.standardError.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: fixture.repository.path + "/.flotilla/ledger.sqlite"))
    }

    @Test(arguments: [
        (
            "# One\n\n## A\nPipeline: quick\n- [ ] a\n", [String](),
            "the `Pipeline:` line of group `a` names pipeline quick, which no [pipeline.quick] in flotilla.toml or "
                + "config.toml defines (defined: feature)"
        ),
        (
            "# One\n\n## A\n- [ ] a\n", ["--pipeline", "quick"],
            "--pipeline names pipeline quick, which no [pipeline.quick] in flotilla.toml or config.toml defines "
                + "(defined: feature)"
        ),
    ])
    func aPipelineNothingDefinesIsAOneLineErrorAndNothingIsCreated(
        _ checklist: String,
        _ flags: [String],
        _ message: String
    ) async throws {
        let fixture = try await MissionFixture(checklist: checklist, groups: ["a"])
        defer { fixture.remove() }
        try fixture.repository.write("flotilla.toml", "[pipeline.feature]\nsteps = [\"implement\"]\n")
        let run = try await FlotillaBinary.run(
            ["run", "--sandbox-write", fixture.scratch.path, "--verify", "./verify.sh", "--agent-command", "true"]
                + flags,
            in: fixture.repository.path
        )
        #expect(run.exitCode == 2)
        #expect(run.standardError.hasPrefix("error: \(message)"), "\(run.standardError)")
        #expect(run.standardError.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: fixture.repository.path + "/.flotilla/ledger.sqlite"))
    }

    @Test func pricingOverridesPriceTokensOnlyTools() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let bin = try FakeAgents.install(in: fixture.scratch)
        try fixture.repository.write(
            "flotilla.toml",
            "verify = \"./verify.sh\"\n\n[pricing.\"house-model\"]\ninput = 2\noutput = 10\ncache_read = 0.5\n"
        )
        _ = try await fixture.repository.commitAll("settings")
        let run = try await FlotillaBinary.run(
            ["run", "--sandbox-write", fixture.scratch.path, "--backend", "codex", "--model", "house-model"],
            in: fixture.repository.path,
            environment: ["PATH": bin + ":/usr/bin:/bin"]
        )
        #expect(run.exitCode == 0, "\(run.standardError)")
        let attempt = try #require(try await MissionAudit(fixture.repository).attempts().first)
        // The fake codex reports 1200 fresh input, 5000 cached and 340 output tokens.
        #expect(abs(attempt.usage.costUSD - (1200 * 2 + 5000 * 0.5 + 340 * 10) / 1_000_000) < 1e-12)
    }
}
