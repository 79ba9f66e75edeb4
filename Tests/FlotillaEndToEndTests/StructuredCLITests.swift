import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

/// The agent CLIs' structured modes as the planner and critic: `claude -p --json-schema` and
/// `codex exec --output-schema`, through the faithful fake.
@Suite("Planner and critic through the CLIs' structured modes", .tags(.large), .timeLimit(.minutes(10)))
struct StructuredCLITests {
    /// Where the fake is built: a model role run in the sandbox must be let read it (`--sandbox-read`), since the
    /// wrapper runs it by a path the sandbox does not otherwise show when the build is under `/tmp`.
    static var fakeDirectory: String {
        get throws { (try FlotillaBinary.path() as NSString).deletingLastPathComponent }
    }

    /// A wrapper that runs the fake as `tool` with scripted answers, as a `--planner-binary` would be.
    static func tool(
        _ tool: String,
        answers: String,
        in fixture: MissionFixture,
        environment: String = ""
    ) throws -> (binary: String, log: String) {
        let fake = (try FlotillaBinary.path() as NSString).deletingLastPathComponent + "/flotilla-fake-agent"
        let answersFile = try fixture.scratch.write("\(tool)-answers.json", answers)
        let log = fixture.scratch.file("\(tool)-argv.jsonl")
        let binary = try fixture.scratch.write(
            "\(tool)-wrapper",
            """
            #!/bin/sh
            \(environment) FAKE_AGENT_TOOL=\(tool) FAKE_AGENT_ANSWERS='\(answersFile)' FAKE_AGENT_LOG='\(log)' exec '\(fake)' "$@"

            """,
            executable: true
        )
        return (binary, log)
    }

    static func argv(_ log: String) throws -> [[String]] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["argv"] as? [String] ?? []
        }
    }

    @Test func claudePlansAndAnAnswerLeftAsTextOfTheWrongShapeIsRepaired() async throws {
        let fixture = try await MissionFixture(checklist: "# x\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        // The first answer skipped the StructuredOutput tool (structured_output null, JSON as text) and has the
        // wrong shape; the second is right.
        let answers = "[\(String(reflecting: #"{"title": 3}"#)), \(PlannerTests.valid)]"
        let (binary, log) = try Self.tool("claude", answers: answers, in: fixture)
        let run = try await FlotillaBinary.run(
            [
                "plan", "--goal", "Ship a greeting CLI with an HTTP API.", "-y", "-o", "PLAN.md", "--planner",
                "claude", "--planner-binary", binary, "--planner-model", "claude-sonnet-4-5", "--output", "json",
                // The structured mode is what is tested here; the planner's confinement is an adversary test's.
                "--sandbox", "none",
            ],
            in: fixture.repository.path
        )
        #expect(run.exitCode == 0, "\(run.standardError)")
        #expect(run.standardError.contains("planning with claude -p --json-schema, model claude-sonnet-4-5"))
        let written = try String(contentsOfFile: fixture.repository.path + "/PLAN.md", encoding: .utf8)
        #expect(written.contains("## HTTP API") && written.contains("Depends on: greeting"))
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any]
        )
        #expect(report["rounds"] as? Int == 2)
        // Both sessions were paid for, as claude reported them.
        #expect(abs((report["cost_usd"] as? Double ?? 0) - 2 * 0.0187) < 1e-9)

        let sessions = try Self.argv(log)
        #expect(sessions.count == 2)
        let first = try #require(sessions.first)
        #expect(Array(first.prefix(3)) == ["-p", "--output-format", "json"])
        let schema = try #require(first.firstIndex(of: "--json-schema").map { first[$0 + 1] })
        #expect(schema.contains("\"groups\""))
        #expect(!first.contains("--dangerously-skip-permissions"), "a planner may not be allowed to write")
        #expect(first.suffix(2) == ["--model", "claude-sonnet-4-5"])
    }

    @Test func codexPlansWithAStrictSchemaFileInAReadOnlySandbox() async throws {
        let fixture = try await MissionFixture(checklist: "# x\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let (binary, log) = try Self.tool("codex", answers: "[\(PlannerTests.valid)]", in: fixture)
        let run = try await FlotillaBinary.run(
            [
                "plan", "--goal", "Ship a greeting CLI with an HTTP API.", "-y", "-o", "PLAN.md", "--planner",
                "codex", "--planner-binary", binary, "--planner-model", "gpt-5", "--output", "json", "--sandbox",
                "none",
            ],
            in: fixture.repository.path
        )
        // The fake refuses schemas that break OpenAI's strict rules, as codex does: the planner's passes.
        #expect(run.exitCode == 0, "\(run.standardError)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any]
        )
        #expect(report["rounds"] as? Int == 1)
        let usage = Usage(inputTokens: 1100, outputTokens: 260, cacheReadTokens: 3000)
        let expected = try #require(PricingTable.builtIn.cost(of: usage, model: "gpt-5"))
        #expect(expected > 0)
        #expect(abs((report["cost_usd"] as? Double ?? 0) - expected) < 1e-12)
        let argv = try #require(try Self.argv(log).first)
        #expect(argv.first == "exec" && argv.last == "-")
        #expect(argv.contains("--output-schema") && argv.contains("read-only"))
        // The schema file is Flotilla's to clean up.
        let schemaFile = try #require(argv.firstIndex(of: "--output-schema").map { argv[$0 + 1] })
        #expect(!FileManager.default.fileExists(atPath: schemaFile))
    }

    @Test func claudeAsTheCriticReviewsAFailedGateAndItsCallIsRecorded() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let review =
            #"{"summary": "a.txt is missing", "root_cause": "nothing was written", "next_actions": ["write a.txt"], "failing_criteria": ["a"]}"#
        let (binary, log) = try Self.tool("claude", answers: "[\(review)]", in: fixture)
        // The user's own settings have a SessionStart hook (an agent could have planted it): a model role reads what
        // agents wrote, runs without a sandbox, and must run no hook.
        let home = fixture.scratch.file("home")
        try FileManager.default.createDirectory(atPath: home + "/.claude", withIntermediateDirectories: true)
        let hook =
            #"{"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": "touch '"# + home
            + #"/hook-ran'"}]}]}}"#
        try hook.write(toFile: home + "/.claude/settings.json", atomically: true, encoding: .utf8)
        let agent = try fixture.scratch.write(
            "agent.sh",
            "#!/bin/sh\nif [ \"$FLOTILLA_ATTEMPT\" = 2 ]; then echo 'a ok' > a.txt; fi\n",
            executable: true
        )
        let run = try await FlotillaBinary.run(
            [
                "run", "--sandbox-write", fixture.scratch.path, "--verify", "./verify.sh", "--agent-command",
                "sh \(agent)", "--critic", "claude",
                "--critic-binary", binary, "--sandbox-read", try Self.fakeDirectory,
            ],
            in: fixture.repository.path,
            environment: ["HOME": home]
        )
        #expect(run.exitCode == 0, "\(run.standardError)")
        let audit = try await MissionAudit(fixture.repository)
        let attempts = try await audit.ledger.attempts(of: audit.id)
        #expect(attempts.map(\.outcome) == [.gateFailed, .landed])
        #expect(attempts[0].feedback?.contains("Root cause: nothing was written") == true)
        let call = try #require(try await audit.ledger.modelCalls(of: audit.id).first?.call)
        #expect(call.role == .critic && call.error == nil && abs(call.usage.costUSD - 0.0187) < 1e-9)
        #expect(abs(attempts[0].usage.costUSD - 0.0187) < 1e-9)
        let argv = try #require(try Self.argv(log).first)
        #expect(argv.firstIndex(of: "--setting-sources").map { argv[$0 + 1] } == "")
        #expect(argv.contains("--strict-mcp-config"))
        #expect(!FileManager.default.fileExists(atPath: home + "/hook-ran"), "the critic ran a hook from the settings")
    }
}
