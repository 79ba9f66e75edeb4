import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

/// `flotilla plan` against a scripted model server on loopback.
@Suite("flotilla plan: planning over HTTP, repairs, fallbacks", .tags(.large), .timeLimit(.minutes(10)))
struct PlannerTests {
    static let valid = #"""
        {"title": "Greeting CLI", "groups": [
          {"id": "greeting", "title": "Greeting", "depends_on": [], "check": null, "criteria": ["greet NAME prints Hello, NAME!"]},
          {"id": "api", "title": "HTTP API", "depends_on": ["greeting"], "check": "./check-api.sh", "criteria": ["GET /hello answers 200"],
           "files": ["api.py", "tests/test_api.py"]}
        ]}
        """#
    static let cyclic = #"""
        {"title": "Loop", "groups": [
          {"id": "a", "title": "A", "depends_on": ["b"], "check": null, "criteria": ["a works"]},
          {"id": "b", "title": "B", "depends_on": ["a"], "check": null, "criteria": ["b works"]}
        ]}
        """#

    func plan(
        _ arguments: [String],
        in fixture: MissionFixture,
        environment: [String: String] = [:]
    ) async throws
        -> FlotillaBinary.Outcome
    {
        try await FlotillaBinary.run(
            ["plan", "--goal", "Ship a greeting CLI with an HTTP API.", "-y", "-o", "PLAN.md"] + arguments,
            in: fixture.repository.path,
            environment: environment
        )
    }

    func requestBodies(_ server: ScriptedModelServer) async throws -> [[String: Any]] {
        try await server.requests.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func aValidAnswerIsWrittenAsTheChecklist() async throws {
        let fixture = try await MissionFixture(checklist: "# x\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        try await ScriptedModelServer.serving([.chat(Self.valid), .chat(Self.valid)]) { server, port in
            let run = try await plan(
                ["--planner-url", "http://127.0.0.1:\(port)/v1", "--planner-model", "stub"],
                in: fixture
            )
            #expect(run.exitCode == 0, "\(run.standardError)")
            let written = try String(contentsOfFile: fixture.repository.path + "/PLAN.md", encoding: .utf8)
            let checklist = try ChecklistParser.parse(written, file: "PLAN.md")
            #expect(checklist.groupIDs == ["greeting", "api"])
            #expect(checklist.group("api")?.dependsOn == ["greeting"])
            // Unreviewed (-y), the planner's command is not kept as a check, and the user is told.
            #expect(checklist.group("api")?.check == nil)
            #expect(run.standardError.contains("wrote checks (commands) for api"), "\(run.standardError)")
            let kept = try await plan(
                [
                    "--planner-url", "http://127.0.0.1:\(port)/v1", "--planner-model", "stub", "--run-planned-checks",
                    "--temperature", "0.3", "--top-p", "0.9", "--seed", "7", "--planner-max-tokens", "512",
                ],
                in: fixture
            )
            #expect(kept.exitCode == 0, "\(kept.standardError)")
            let keptText = try String(contentsOfFile: fixture.repository.path + "/PLAN.md", encoding: .utf8)
            #expect(try ChecklistParser.parse(keptText, file: "PLAN.md").group("api")?.check == "./check-api.sh")
            // The planner's footprint hint is kept as the group's `Files:` line (scheduling keeps overlaps apart).
            #expect(checklist.group("api")?.files == ["api.py", "tests/test_api.py"])
            #expect(written.contains("Files: api.py, tests/test_api.py"))
            let bodies = try await requestBodies(server)
            #expect(bodies.count == 2)
            let format = bodies[0]["response_format"] as? [String: Any]
            #expect(format?["type"] as? String == "json_schema")
            #expect((format?["json_schema"] as? [String: Any])?["name"] as? String == "acceptance_checklist")
            let schema = (format?["json_schema"] as? [String: Any])?["schema"] as? [String: Any]
            let group =
                ((schema?["properties"] as? [String: Any])?["groups"] as? [String: Any])?["items"] as? [String: Any]
            #expect((group?["required"] as? [String])?.contains("files") == true, "the planner is asked for files")
            #expect(bodies[0]["model"] as? String == "stub")
            // Sampling only when asked: the server's own default, or what the flags say.
            #expect(bodies[0]["temperature"] == nil && bodies[0]["seed"] == nil)
            #expect(bodies[1]["temperature"] as? Double == 0.3 && bodies[1]["top_p"] as? Double == 0.9)
            #expect(bodies[1]["seed"] as? Int == 7)
            #expect(bodies[0]["max_tokens"] as? Int == 4096 && bodies[1]["max_tokens"] as? Int == 512)
            // The repository's files are part of the question.
            let messages = bodies[0]["messages"] as? [[String: Any]] ?? []
            #expect((messages.last?["content"] as? String)?.contains("verify.sh") == true)
        }
    }

    @Test func invalidAnswersAreSentBackWithTheirProblemsAndRepaired() async throws {
        let fixture = try await MissionFixture(checklist: "# x\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let replies: [ScriptedModelServer.Reply] = [
            .chat(Self.cyclic), .chat(#"{"title": "x", "groups": "nope"}"#), .chat(Self.valid),
        ]
        try await ScriptedModelServer.serving(replies) { server, port in
            let run = try await plan(["--planner-url", "http://127.0.0.1:\(port)/v1"], in: fixture)
            #expect(run.exitCode == 0, "\(run.standardError)")
            #expect(run.standardError.contains("repaired in 2 round(s)"))
            let bodies = try await requestBodies(server)
            #expect(bodies.count == 3)
            let second = (bodies[1]["messages"] as? [[String: Any]] ?? []).compactMap { $0["content"] as? String }
            #expect(second.contains { $0.contains("cycle") }, "\(second)")
            #expect(
                second.contains { $0.contains(#""depends_on": ["b"]"#) },
                "the first answer goes back as the assistant's"
            )
            let third = (bodies[2]["messages"] as? [[String: Any]] ?? []).compactMap { $0["content"] as? String }
            #expect(third.last?.contains("groups: expected array, found string") == true, "\(third.last ?? "")")
        }
    }

    @Test func aHopelessPlannerFailsAfterTheBoundAndWritesNothing() async throws {
        let fixture = try await MissionFixture(checklist: "# x\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        try await ScriptedModelServer.serving([.chat(Self.cyclic), .chat(Self.cyclic), .chat("not json at all")]) {
            server,
            port in
            let run = try await plan(["--planner-url", "http://127.0.0.1:\(port)/v1", "--repairs", "2"], in: fixture)
            #expect(run.exitCode == 2)
            #expect(run.standardError.contains("no valid checklist in 3 answers"), "\(run.standardError)")
            #expect(run.standardError.split(separator: "\n").count == 2)
            #expect(!FileManager.default.fileExists(atPath: fixture.repository.path + "/PLAN.md"))
            #expect(await server.requests.count == 3)
        }
    }

    @Test func aServerThatRefusesJSONSchemaGetsJSONObjectAndRetriesHonourRetryAfter() async throws {
        let fixture = try await MissionFixture(checklist: "# x\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let replies: [ScriptedModelServer.Reply] = [
            // llama.cpp's server: HTTP 500 on {"type": "json_schema", …}.
            .init(
                status: 500,
                body: #"{"error":{"code":500,"message":"Unsupported response_format type","type":"server_error"}}"#
            ),
            .init(status: 429, body: #"{"error":{"message":"slow down"}}"#, headers: ["Retry-After": "0"]),
            .chat(Self.valid),
        ]
        try await ScriptedModelServer.serving(replies) { server, port in
            let run = try await plan(["--planner-url", "http://127.0.0.1:\(port)/v1"], in: fixture)
            #expect(run.exitCode == 0, "\(run.standardError)")
            let formats = try await requestBodies(server).map {
                ($0["response_format"] as? [String: Any])?["type"] as? String
            }
            #expect(formats == ["json_schema", "json_object", "json_object"])
            let last = try await requestBodies(server).last?["response_format"] as? [String: Any]
            #expect(last?["schema"] != nil)
        }
    }

    @Test func anthropicAnswersThroughAForcedTool() async throws {
        let fixture = try await MissionFixture(checklist: "# x\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let message = """
            {"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","stop_reason":"tool_use","stop_sequence":null,
             "content":[{"type":"tool_use","id":"toolu_1","name":"acceptance_checklist","input":\(Self.valid)}],
             "usage":{"input_tokens":900,"output_tokens":210,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}
            """
        try await ScriptedModelServer.serving([.init(body: message)]) { server, port in
            let run = try await plan(
                ["--planner", "anthropic", "--planner-url", "http://127.0.0.1:\(port)", "--output", "json"],
                in: fixture,
                environment: ["ANTHROPIC_API_KEY": "sk-ant-test-0123456789"]
            )
            #expect(run.exitCode == 0, "\(run.standardError)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any]
            )
            // 900 in at $3/MTok and 210 out at $15/MTok.
            #expect(abs((report["cost_usd"] as? Double ?? 0) - 0.00585) < 1e-9)
            let body = try #require(try await requestBodies(server).first)
            #expect((body["tool_choice"] as? [String: Any])?["name"] as? String == "acceptance_checklist")
            #expect(!run.standardOutput.contains("sk-ant-test"))
        }
    }

    @Test func runWithAGoalAndNoChecklistPlansFirst() async throws {
        let repository = try await FixtureRepository(
            files: ["verify.sh": MissionFixture.verifyScript, "groups.list": "a b\n"],
            executables: ["verify.sh"]
        )
        defer { repository.directory.remove() }
        let agent = try repository.directory.write(
            "agent.sh",
            "#!/bin/sh\necho \"$FLOTILLA_GROUP ok\" > \"$FLOTILLA_GROUP.txt\"\n"
        )
        let planned = #"""
            {"title": "Two files", "groups": [
              {"id": "a", "title": "A", "depends_on": [], "check": null, "criteria": ["a.txt says a ok"]},
              {"id": "b", "title": "B", "depends_on": ["a"], "check": null, "criteria": ["b.txt says b ok"]}
            ]}
            """#
        // The first answer has the wrong shape and is repaired; both calls are paid for and kept with the mission.
        let scratch = try TemporaryDirectory(prefix: "flotilla-config")
        defer { scratch.remove() }
        try await ScriptedModelServer.serving([.chat(#"{"title": 3}"#), .chat(planned)]) { _, port in
            let run = try await FlotillaBinary.run(
                [
                    "run", "--goal", "Write two files.", "--planner-url", "http://127.0.0.1:\(port)/v1", "-y",
                    "--verify",
                    "./verify.sh", "--agent-command", "sh \(agent)",
                ],
                in: repository.path,
                environment: ["XDG_CONFIG_HOME": try CriticTests.pricedConfig(scratch)]
            )
            #expect(run.exitCode == 0, "\(run.standardError)")
            #expect(run.standardError.contains("planning with openai-compatible"))
            let audit = try await MissionAudit(repository)
            #expect(audit.mission.spec.checklist.groupIDs == ["a", "b"])
            #expect(audit.mission.state == .completed)
            #expect(!FileManager.default.fileExists(atPath: repository.path + "/ACCEPTANCE.md"))
            let calls = try await audit.ledger.modelCalls(of: audit.id).map(\.call)
            #expect(calls.map(\.role) == [.planner, .planner])
            #expect(calls[0].error != nil && calls[1].error == nil)
            #expect(calls.allSatisfy { abs($0.usage.costUSD - CriticTests.scriptedCallUSD) < 1e-12 })
            // The agent cost nothing: the mission's cost is its planning.
            #expect(abs(audit.mission.spentUSD - 2 * CriticTests.scriptedCallUSD) < 1e-12)
        }
    }

    @Test(arguments: [false, true])
    func aPlannedCheckThatPassesAnythingLandsNothing(_ keepChecks: Bool) async throws {
        // The planner makes `true` every group's check. Unreviewed, it is dropped; kept on purpose, it passes the
        // attempts' gates, but every landing also runs the mission's verify command, and the wrong work never lands.
        let repository = try await FixtureRepository(
            files: ["verify.sh": MissionFixture.verifyScript, "groups.list": "a b\n"],
            executables: ["verify.sh"]
        )
        defer { repository.directory.remove() }
        let agent = try repository.directory.write("agent.sh", "#!/bin/sh\necho wrong > \"$FLOTILLA_GROUP.txt\"\n")
        let planned = #"""
            {"title": "Two files", "groups": [
              {"id": "a", "title": "A", "depends_on": [], "check": "true", "criteria": ["a.txt says a ok"]},
              {"id": "b", "title": "B", "depends_on": [], "check": "true", "criteria": ["b.txt says b ok"]}
            ]}
            """#
        try await ScriptedModelServer.serving([.chat(planned)]) { _, port in
            let run = try await FlotillaBinary.run(
                [
                    "run", "--goal", "Write two files.", "--planner-url", "http://127.0.0.1:\(port)/v1", "-y",
                    "--verify", "./verify.sh", "--agent-command", "sh \(agent)", "--max-attempts", "2",
                    "--stall-threshold", "2",
                ] + (keepChecks ? ["--run-planned-checks"] : []),
                in: repository.path
            )
            #expect(run.exitCode != 0, "\(run.standardError)")
            let audit = try await MissionAudit(repository)
            #expect(audit.mission.spec.checklist.groups.map(\.check) == (keepChecks ? ["true", "true"] : [nil, nil]))
            #expect(try await audit.attempts().allSatisfy { $0.outcome != .landed })
            #expect(await audit.targetHead() == audit.mission.spec.baseCommit)
        }
    }

    @Test func aGoalAskingForANumberGetsProbesOfTheRepositorysOwnScriptsAndMetrics() async throws {
        let fixture = try await MissionFixture(checklist: "# x\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        func answer(_ probe: String) -> String {
            #"{"title": "Faster", "probes": ["bench = \#(probe)"], "groups": [{"id": "fast", "title": "Fast", "#
                + #""depends_on": [], "check": null, "criteria": ["the work is fast"], "files": [], "#
                + #""metrics": ["bench.ms <= 120 {#ms}"], "events": [], "predicates": []}]}"#
        }
        // The first answer's probe runs a script the repository lacks: it goes back with that problem.
        let replies: [ScriptedModelServer.Reply] = [
            .chat(answer("python3 bench/run.py")), .chat(answer("./verify.sh --bench")), .chat(answer("./verify.sh")),
        ]
        try await ScriptedModelServer.serving(replies) { server, port in
            let kept = try await plan(
                ["--planner-url", "http://127.0.0.1:\(port)/v1", "--run-planned-checks"],
                in: fixture
            )
            #expect(kept.exitCode == 0, "\(kept.standardError)")
            let written = try String(contentsOfFile: fixture.repository.path + "/PLAN.md", encoding: .utf8)
            #expect(written.contains("Probe: bench = ./verify.sh --bench"), "\(written)")
            #expect(written.contains("Metric: bench.ms <= 120 {#ms}"), "\(written)")
            let bodies = try await requestBodies(server)
            let second = (bodies[1]["messages"] as? [[String: Any]] ?? []).compactMap { $0["content"] as? String }
            #expect(second.last?.contains("runs bench/run.py, which the repository does not have") == true)
            // Unreviewed and without --run-planned-checks, the probe is a model's command: dropped with its metric.
            let dropped = try await plan(["--planner-url", "http://127.0.0.1:\(port)/v1"], in: fixture)
            #expect(dropped.exitCode == 0, "\(dropped.standardError)")
            #expect(dropped.standardError.contains("wrote probes (commands): bench"), "\(dropped.standardError)")
            let plain = try String(contentsOfFile: fixture.repository.path + "/PLAN.md", encoding: .utf8)
            #expect(!plain.contains("Probe:") && !plain.contains("Metric:"), "\(plain)")
        }
    }

    @Test func withoutAPlannerAGoalAskingForANumberGetsAPlaceholderThatMustBeFilledIn() async throws {
        let fixture = try await MissionFixture(checklist: "# x\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let run = try await FlotillaBinary.run(
            ["plan", "--goal", "Make the search endpoint faster.", "-y", "-o", "PLAN.md"],
            in: fixture.repository.path
        )
        #expect(run.exitCode == 0, "\(run.standardError)")
        let written = try String(contentsOfFile: fixture.repository.path + "/PLAN.md", encoding: .utf8)
        #expect(written.contains("Metric: TODO.p95_ms <= TODO"), "\(written)")
        // Never an always-true criterion: the placeholder fails validation, naming its line, until a person edits it.
        let line = try #require(
            written.split(separator: "\n", omittingEmptySubsequences: false).firstIndex {
                $0.hasPrefix("Metric:")
            }
        )
        let refused = try await FlotillaBinary.run(
            ["run", "--acceptance", "PLAN.md", "--agent-command", "true"],
            in: fixture.repository.path
        )
        #expect(refused.exitCode == 2, "\(refused.standardError)")
        #expect(refused.standardError.contains("PLAN.md:\(line + 1)"), "\(refused.standardError)")
        let listed = try await FlotillaBinary.run(["list", "--output", "json"], in: fixture.repository.path)
        #expect(!listed.standardOutput.contains("m-"), "no mission was created: \(listed.standardOutput)")
    }

    @Test func withoutAPlannerTheFallbackIsUsedAndSaidSo() async throws {
        let fixture = try await MissionFixture(checklist: "# x\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let run = try await plan([], in: fixture)
        #expect(run.exitCode == 0, "\(run.standardError)")
        #expect(run.standardError.contains("no planner configured"))
        let written = try String(contentsOfFile: fixture.repository.path + "/PLAN.md", encoding: .utf8)
        let checklist = try ChecklistParser.parse(written, file: "PLAN.md")
        #expect(checklist.groupIDs == ["goal"])
        #expect(checklist.groups[0].criteria == ["Ship a greeting CLI with an HTTP API."])
    }
}
