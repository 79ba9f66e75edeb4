import FlotillaAgents
import FlotillaCore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Built-in backends", .tags(.medium))
struct BackendTests {
    func request(
        in directory: TemporaryDirectory,
        attempt: Int = 1,
        timeout: Duration = .seconds(30)
    ) throws -> AgentRequest {
        let promptFile = try directory.write("prompt.md", "Do the thing.\n")
        try FileManager.default.createDirectory(atPath: directory.file("wt"), withIntermediateDirectories: true)
        return AgentRequest(
            mission: MissionID.random(),
            attempt: AttemptKey(group: "api", number: attempt),
            worktree: directory.file("wt"),
            prompt: "Do the thing.\n",
            promptFile: promptFile,
            model: "small",
            timeout: timeout,
            environment: [:],
            transcriptPath: directory.file("out/api-1.log")
        )
    }

    func agent(_ command: String) -> CommandAgent {
        CommandAgent(
            command: command,
            runner: SubprocessRunner(),
            environment: EnvironmentPolicy().environment(from: ProcessInfo.processInfo.environment)
        )
    }

    @Test func commandAgentReportsTheLastUsageLineAndKeepsATranscript() async throws {
        try await TemporaryDirectory.with { dir in
            let script = """
                cat > got-prompt.txt
                echo '{"cost_usd": 1.0}'
                echo 'noise {"cost_usd": broken'
                echo '{"cost_usd": 0.25, "input_tokens": 10, "output_tokens": 5, "cache_read_tokens": 3, "message": "done"}'
                echo "model=$FLOTILLA_MODEL" >&2
                """
            let outcome = try await agent(script).run(try request(in: dir))
            #expect(outcome.termination == .exited(0))
            #expect(outcome.usage == Usage(inputTokens: 10, outputTokens: 5, cacheReadTokens: 3, costUSD: 0.25))
            #expect(outcome.finalMessage == "done")
            #expect(outcome.failure == nil)
            #expect(try dir.read("wt/got-prompt.txt") == "Do the thing.\n")
            let transcript = try dir.read("out/api-1.log")
            #expect(transcript.contains("model=small") && transcript.contains("\"cost_usd\": 0.25"))
        }
    }

    @Test func aProgramTheShellCannotRunIsAnAgentFailure() async throws {
        try await TemporaryDirectory.with { dir in
            let outcome = try await agent("./missing-agent.sh --go").run(try request(in: dir))
            #expect(outcome.termination == .exited(127))
            guard case .crashed(let detail)? = outcome.failure else {
                Issue.record("expected a crash, got \(String(describing: outcome.failure))")
                return
            }
            #expect(detail.contains("could not run (exit 127"))
            #expect(detail.contains("missing-agent.sh"))
        }
    }

    @Test func aNonZeroExitIsLeftToTheGate() async throws {
        try await TemporaryDirectory.with { dir in
            let outcome = try await agent("echo partial > work.txt; exit 1").run(try request(in: dir))
            #expect(outcome.termination == .exited(1))
            #expect(outcome.failure == nil)
        }
    }

    @Test func scenarioProblemsNameTheirFields() {
        let json = """
            {"delay_ms": -1, "barriers": {"b": 0}, "groups": {"a": [{"write": {"../escape": "x", "ok.txt": 3},
            "barrier": "nope", "exit_code": 300, "cost_usd": -1, "wat": true}], "empty": []}, "extra": 1}
            """
        do {
            _ = try Scenario.decode(Data(json.utf8), file: "s.json")
            Issue.record("expected errors")
        } catch {
            let text = error.description
            for expected in [
                "s.json: delay_ms: expected a non-negative integer",
                "s.json: barriers.b: expected a number of agents (1 or more)",
                "s.json: groups.a[0].write.../escape: path leaves the worktree",
                "s.json: groups.a[0].write.ok.txt: expected the file's contents as a string",
                "s.json: groups.a[0].exit_code: expected an integer from 0 to 255",
                "s.json: groups.a[0].cost_usd: expected a non-negative number",
                "s.json: groups.a[0].wat: unknown field",
                "s.json: groups.empty: expected a non-empty array of steps",
                "s.json: extra: unknown field",
            ] {
                #expect(text.contains(expected), "missing: \(expected)")
            }
        }
    }

    @Test func scenarioStepsRepeatTheLastAndFallBackToTheDefault() throws {
        let scenario = try Scenario.decode(
            Data(#"{"groups": {"a": [{"exit_code": 1}, {"exit_code": 2}]}, "default": {"exit_code": 7}}"#.utf8),
            file: "s.json"
        )
        #expect(scenario.step(group: "a", attempt: 1)?.exitCode == 1)
        #expect(scenario.step(group: "a", attempt: 5)?.exitCode == 2)
        #expect(scenario.step(group: "b", attempt: 1)?.exitCode == 7)
    }

    @Test func simulatedAgentWritesAppendsDeletesAndReports() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.write("wt/old.txt", "bye\n")
            try dir.write("wt/log.txt", "one\n")
            let step = ScenarioStep(
                write: [("src/new.txt", "hello\n")],
                append: [("log.txt", "two\n")],
                delete: ["old.txt"],
                exitCode: 3,
                usage: Usage(inputTokens: 7, costUSD: 0.5),
                message: "did it"
            )
            let agent = SimulatedAgent(scenario: Scenario(groups: ["api": [step]]))
            let outcome = try await agent.run(try request(in: dir))
            #expect(outcome.termination == .exited(3))
            #expect(outcome.usage.costUSD == 0.5 && outcome.finalMessage == "did it")
            #expect(try dir.read("wt/src/new.txt") == "hello\n")
            #expect(try dir.read("wt/log.txt") == "one\ntwo\n")
            #expect(!dir.exists("wt/old.txt"))
            #expect(try dir.read("out/api-1.log").contains("wrote src/new.txt"))
        }
    }
}
