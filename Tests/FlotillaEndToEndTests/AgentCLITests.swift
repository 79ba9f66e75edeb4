import FlotillaAPI
import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

/// Full missions through faithful fakes of the agent CLIs (Tests/Fakes/AgentCLIs), installed on PATH under each
/// tool's name.
@Suite("Agent CLIs: full missions through faithful fakes", .tags(.large), .timeLimit(.minutes(10)))
struct AgentCLITests {
    struct Case: Sendable, CustomStringConvertible {
        var backend: String
        var program: String
        var model: String?
        /// The exact argv of a session (the worktree path, for codex, is checked separately).
        var argv: [String]
        /// Tokens as the ledger should hold them, normalised; the fakes all report the same session.
        var cacheWriteTokens: Int
        /// Dollars the tool reports itself; nil: the pricing table's computation for the model.
        var reportedCost: Double?

        var description: String { backend }
    }

    static let cases: [Case] = [
        Case(
            backend: "claude",
            program: "claude",
            model: nil,
            argv: ["-p", "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"],
            cacheWriteTokens: 800,
            reportedCost: 0.0421
        ),
        Case(
            backend: "codex",
            program: "codex",
            model: "gpt-5",
            argv: [
                "exec", "--json", "--sandbox", "workspace-write", "--skip-git-repo-check", "-C", "WORKTREE", "-m",
                "gpt-5", "-",
            ],
            cacheWriteTokens: 0,
            reportedCost: nil
        ),
        Case(
            backend: "gemini",
            program: "gemini",
            model: "gemini-2.5-pro",
            argv: [
                "--prompt", "Carry out the task above.", "--output-format", "json", "--approval-mode", "yolo", "-m",
                "gemini-2.5-pro",
            ],
            cacheWriteTokens: 0,
            reportedCost: nil
        ),
        Case(
            backend: "opencode",
            program: "opencode",
            model: "anthropic/claude-sonnet-4-5",
            argv: [
                "run", "--format", "json", "--auto", "-m", "anthropic/claude-sonnet-4-5", "Carry out the task below.",
            ],
            cacheWriteTokens: 800,
            reportedCost: 0.0123
        ),
        Case(
            backend: "cursor",
            program: "cursor-agent",
            model: "sonnet-4.5",
            argv: ["-p", "--output-format", "json", "--force", "-m", "sonnet-4.5"],
            cacheWriteTokens: 800,
            reportedCost: nil
        ),
    ]

    @Test(arguments: cases)
    func aMissionCompletesAndRecordsWhatTheToolReported(_ tool: Case) async throws {
        let fixture = try await MissionFixture(
            checklist: "# Two files\n\n## A\n- [ ] a\n\n## B\nDepends on: a\n- [ ] b\n",
            groups: ["a", "b"]
        )
        defer { fixture.remove() }
        let bin = try FakeAgents.install(in: fixture.scratch)
        let log = fixture.scratch.file("argv.jsonl")
        // a is rate-limited on its first session, then succeeds.
        let plan = try fixture.scratch.write("plan.json", #"{"a": ["rate_limit", "success"]}"#)
        var arguments = [
            "run", "--sandbox-write", fixture.scratch.path, "--backend", tool.backend, "--verify", "./verify.sh",
            "--agents", "2", "--pass-env",
            "FAKE_AGENT_PLAN",
            "--pass-env", "FAKE_AGENT_LOG", "--output", "json", "--stall-threshold", "1", "--rate-limit-backoff",
            "0.2", "--rate-limit-max-wait", "0.2",
        ]
        if let model = tool.model { arguments += ["--model", model] }
        let run = try await FlotillaBinary.run(
            arguments,
            in: fixture.repository.path,
            environment: [
                "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                "FAKE_AGENT_PLAN": plan, "FAKE_AGENT_LOG": log,
            ]
        )
        #expect(run.exitCode == 0, "\(run.standardError)")
        let audit = try await MissionAudit(fixture.repository)
        #expect(try await audit.ledger.mission(audit.id)?.state == .completed)

        let attempts = try await audit.ledger.attempts(of: audit.id)
        let failed = try #require(attempts.first { $0.key.group == "a" && $0.key.number == 1 })
        #expect(failed.outcome == .agentFailed)
        #expect(failed.reason?.contains("rate limited") == true, "\(failed.reason ?? "")")
        // The limit was the account's: every agent waited, and the group's stall count did not move (with a
        // threshold of 1, one counted failure would have escalated it).
        let retried = try #require(attempts.first { $0.key.group == "a" && $0.key.number == 2 })
        #expect(retried.startedAt.timeIntervalSince(try #require(failed.finishedAt)) >= 0.2)
        #expect(try await audit.ledger.groups(of: audit.id).allSatisfy { $0.escalation == .none })
        let landed = attempts.filter { $0.outcome == .landed }
        #expect(landed.count == 2)
        let expectedUsage = Usage(
            inputTokens: 1200,
            outputTokens: 340,
            cacheReadTokens: 5000,
            cacheWriteTokens: tool.cacheWriteTokens
        )
        let expectedCost =
            tool.reportedCost ?? PricingTable.builtIn.cost(of: expectedUsage, model: tool.model ?? "") ?? -1
        #expect(expectedCost > 0)
        for attempt in landed {
            #expect(attempt.usage.inputTokens == 1200)
            #expect(attempt.usage.outputTokens == 340)
            #expect(attempt.usage.cacheReadTokens == 5000)
            #expect(attempt.usage.cacheWriteTokens == tool.cacheWriteTokens)
            #expect(abs(attempt.usage.costUSD - expectedCost) < 1e-9, "\(attempt.usage.costUSD) vs \(expectedCost)")
            #expect(attempt.backend == tool.backend)
        }

        // status shows the cost per group.
        let status = try await FlotillaBinary.run(["status", "--output", "json"], in: fixture.repository.path)
        let mission = try APIJSON.decoder.decode(MissionDTO.self, from: Data(status.standardOutput.utf8))
        for group in mission.groups ?? [] {
            #expect(abs(group.costUSD - expectedCost) < 1e-9)
            // One criterion per group: a group's cost per criterion is its cost.
            #expect(abs((group.costPerCriterionUSD ?? -1) - expectedCost) < 1e-9)
        }
        #expect(abs((mission.costPerAcceptedCriterionUSD ?? -1) - expectedCost) < 1e-9)
        #expect(abs(mission.costUSD - 2 * expectedCost) < 1e-9)

        // Every session got exactly the typed argv, and each attempt was a fresh session.
        let sessions = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(sessions.count == 3)
        var budgets: [String] = []
        for session in sessions {
            #expect(session["tool"] as? String == tool.program)
            var argv = session["argv"] as? [String] ?? []
            // claude is told what the mission's budget leaves ($10 by default, less what has been spent).
            if let index = argv.firstIndex(of: "--max-budget-usd"), index + 1 < argv.count {
                budgets.append(argv[index + 1])
                argv.removeSubrange(index...(index + 1))
            }
            if let index = argv.firstIndex(of: "-C"), index + 1 < argv.count {
                #expect(argv[index + 1].contains(".flotilla/worktrees/\(audit.id)/agent-"))
                argv[index + 1] = "WORKTREE"
            }
            #expect(argv == tool.argv)
        }
        #expect(budgets == (tool.backend == "claude" ? ["10.00", "10.00", "9.96"] : []))
    }

    @Test func agentArgumentsReachEverySessionInOrderAndTheFlagsReplaceTheProjects() async throws {
        let fixture = try await MissionFixture(
            checklist: "# One\n\n## A\n- [ ] a\n",
            groups: ["a"],
            extraFiles: ["flotilla.toml": "[run]\nagent_args = [\"-c\", \"from_project=1\"]\n"]
        )
        defer { fixture.remove() }
        let bin = try FakeAgents.install(in: fixture.scratch)
        let base = [
            "exec", "--json", "--sandbox", "workspace-write", "--skip-git-repo-check", "-C", "WORKTREE", "-m", "gpt-5",
            "-",
        ]
        for (flags, expected) in [
            ([String](), ["-c", "from_project=1"]),
            // Values that look like flags, and repeats, are kept as given.
            (
                ["--agent-arg", "-c", "--agent-arg", "x=1", "--agent-arg", "-c", "--agent-arg", "x=1"],
                ["-c", "x=1", "-c", "x=1"]
            ),
        ] {
            let log = fixture.scratch.file("argv-\(flags.count).jsonl")
            let run = try await fixture.run(
                ["--backend", "codex", "--model", "gpt-5", "--pass-env", "FAKE_AGENT_LOG"] + flags,
                environment: [
                    "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                    "FAKE_AGENT_LOG": log,
                ]
            )
            #expect(run.exitCode == 0, "\(run.standardError)")
            let session = try #require(
                try JSONSerialization.jsonObject(with: Data(try String(contentsOfFile: log, encoding: .utf8).utf8))
                    as? [String: Any]
            )
            var argv = session["argv"] as? [String] ?? []
            if let index = argv.firstIndex(of: "-C"), index + 1 < argv.count { argv[index + 1] = "WORKTREE" }
            #expect(argv == base + expected)
        }
    }

    @Test(arguments: ["claude", "codex", "gemini", "opencode", "cursor"])
    func failuresAreClassifiedAndMalformedOutputNeverPasses(_ backend: String) async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let bin = try FakeAgents.install(in: fixture.scratch)
        let plan = try fixture.scratch.write("plan.json", #"{"a": ["auth", "malformed", "success"]}"#)
        let run = try await FlotillaBinary.run(
            [
                "run", "--sandbox-write", fixture.scratch.path, "--backend", backend, "--verify", "./verify.sh",
                "--pass-env", "FAKE_AGENT_PLAN",
                "--stall-threshold", "5", "--model", "gpt-5",
            ],
            in: fixture.repository.path,
            environment: [
                "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                "FAKE_AGENT_PLAN": plan,
            ]
        )
        #expect(run.exitCode == 0, "\(run.standardError)")
        let audit = try await MissionAudit(fixture.repository)
        let attempts = try await audit.ledger.attempts(of: audit.id)
        #expect(attempts.map(\.outcome) == [.agentFailed, .agentFailed, .landed])
        #expect(attempts[0].reason?.contains("authentication failed") == true, "\(attempts[0].reason ?? "")")
        #expect(attempts[1].reason?.contains("unreadable output") == true, "\(attempts[1].reason ?? "")")
    }

    @Test func aiderAndMiniAreJudgedByTheGateAndTheirOwnRecordsNotTheirExitStatus() async throws {
        for (backend, failing) in [("aider", "no_match"), ("mini", "limits")] {
            let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
            defer { fixture.remove() }
            let bin = try FakeAgents.install(in: fixture.scratch)
            let plan = try fixture.scratch.write("plan.json", #"{"a": ["\#(failing)", "success"]}"#)
            let run = try await FlotillaBinary.run(
                [
                    "run", "--sandbox-write", fixture.scratch.path, "--backend", backend, "--verify", "./verify.sh",
                    "--model", "openai/stub",
                    "--agent-base-url",
                    "http://127.0.0.1:9/v1", "--pass-env", "FAKE_AGENT_PLAN",
                ],
                in: fixture.repository.path,
                environment: ["PATH": bin + ":/usr/bin:/bin", "FAKE_AGENT_PLAN": plan]
            )
            #expect(run.exitCode == 0, "\(backend): \(run.standardError)")
            let attempts = try await MissionAudit(fixture.repository).attempts()
            // Both exit 0 on the first attempt: aider's failed edit is caught by the gate, mini's by its trajectory.
            #expect(
                attempts.map(\.outcome) == [backend == "aider" ? .gateFailed : .agentFailed, .landed],
                "\(backend)"
            )
            #expect(attempts.last?.usage.costUSD == (backend == "aider" ? 0.0063 : 0.05))
            if backend == "aider" {
                #expect(
                    attempts.last?.usage
                        == Usage(inputTokens: 2400, outputTokens: 39, cacheReadTokens: 1200, costUSD: 0.0063)
                )
            } else {
                // mini's tokens are the usage of the replies its trajectory keeps.
                #expect(
                    attempts.last?.usage
                        == Usage(inputTokens: 1000, outputTokens: 60, cacheReadTokens: 500, costUSD: 0.05)
                )
            }
        }
    }

    @Test func aToolsOwnFilesNeverLandAndLitellmUsesItsLocalPriceMap() async throws {
        // By default aider's histories go to the session's folder; sent into the checkout (as a repository's
        // .aider.conf.yml may send them), they are set aside before the attempt is read.
        for extra in [[], ["--agent-arg", "--chat-history-file", "--agent-arg", ".aider.chat.history.md"]] {
            let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
            defer { fixture.remove() }
            let bin = try FakeAgents.install(in: fixture.scratch)
            let dump = fixture.scratch.file("env")
            try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
            let run = try await fixture.run(
                ["--backend", "aider", "--model", "openai/stub", "--agent-base-url", "http://127.0.0.1:9/v1"]
                    + ["--pass-env", "FAKE_AGENT_ENV_DUMP"] + extra,
                environment: ["PATH": bin + ":/usr/bin:/bin", "FAKE_AGENT_ENV_DUMP": dump]
            )
            #expect(run.exitCode == 0, "\(run.standardError)")
            let audit = try await fixture.audit()
            let head = try #require(await audit.targetHead())
            let landed = try await fixture.repository.git("ls-tree", "-r", "--name-only", head)
            #expect(!landed.contains(".aider"), "\(landed)")
            let kept =
                extra.isEmpty
                ? audit.missionDirectory + "/agent_outputs/a-1.log.aider/chat.history.md"
                : audit.missionDirectory + "/agent_outputs/a-1.tool-files/.aider.chat.history.md"
            #expect(FileManager.default.fileExists(atPath: kept), "\(kept)")
            // litellm reads its bundled price list instead of fetching one at every start.
            let environment = try String(contentsOfFile: dump + "/aider-a-1.env", encoding: .utf8)
            #expect(environment.contains("LITELLM_LOCAL_MODEL_COST_MAP=True\n"))
        }
        // mini's trajectory is written to the session's folder and read from there; none lands.
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let bin = try FakeAgents.install(in: fixture.scratch)
        let dump = fixture.scratch.file("env")
        try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
        let run = try await fixture.run(
            ["--backend", "mini", "--model", "openai/stub", "--agent-base-url", "http://127.0.0.1:9/v1"]
                + ["--pass-env", "FAKE_AGENT_ENV_DUMP"],
            environment: ["PATH": bin + ":/usr/bin:/bin", "FAKE_AGENT_ENV_DUMP": dump]
        )
        #expect(run.exitCode == 0, "\(run.standardError)")
        let audit = try await fixture.audit()
        let head = try #require(await audit.targetHead())
        #expect(try await fixture.repository.git("ls-tree", "-r", "--name-only", head).contains("traj") == false)
        #expect(
            FileManager.default.fileExists(
                atPath: audit.missionDirectory + "/agent_outputs/a-1.log.mini/trajectory.json"
            )
        )
        let environment = try String(contentsOfFile: dump + "/mini-a-1.env", encoding: .utf8)
        #expect(environment.contains("LITELLM_LOCAL_MODEL_COST_MAP=True\n"))
    }

    @Test func aReplyCapAndSamplingReachAiderThroughItsSettingsFileAndMiniThroughItsConfig() async throws {
        for backend in ["aider", "mini"] {
            // Best of three: each candidate samples with a seed of its own.
            let fixture = try await MissionFixture(checklist: "# One\n\n## A\nSpeculate: 3\n- [ ] a\n", groups: ["a"])
            defer { fixture.remove() }
            let bin = try FakeAgents.install(in: fixture.scratch)
            let log = fixture.scratch.file("argv.jsonl")
            let run = try await fixture.run(
                ["--backend", backend, "--model", "openai/stub", "--agent-base-url", "http://127.0.0.1:9/v1"]
                    + ["--max-output-tokens", "321", "--pass-env", "FAKE_AGENT_LOG", "--agents", "3"]
                    + ["--temperature", "0.7", "--top-p", "0.8", "--top-k", "20", "--seed", "42"],
                environment: ["PATH": bin + ":/usr/bin:/bin", "FAKE_AGENT_LOG": log]
            )
            #expect(run.exitCode == 0, "\(backend): \(run.standardError)")
            let sessions = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            }
            #expect(sessions.count == 3, "\(backend): \(sessions)")
            var seeds: Set<String> = []
            for session in sessions {
                let argv = session["argv"] as? [String] ?? []
                if backend == "aider" {
                    let index = try #require(argv.firstIndex(of: "--model-settings-file"))
                    let settings = try String(contentsOfFile: argv[index + 1], encoding: .utf8)
                    let lines = settings.split(separator: "\n").map(String.init)
                    #expect(
                        Array(lines.prefix(5)) == [
                            "- name: aider/extra_params", "  extra_params:", "    max_tokens: 321",
                            "    temperature: 0.7", "    top_p: 0.8",
                        ],
                        "\(settings)"
                    )
                    #expect(Array(lines.suffix(2)) == ["    extra_body:", "      top_k: 20"], "\(settings)")
                    seeds.insert(lines.first { $0.hasPrefix("    seed: ") } ?? "")
                } else {
                    for setting in ["max_tokens=321", "temperature=0.7", "top_p=0.8", "extra_body.top_k=20"] {
                        #expect(argv.contains("model.model_kwargs.\(setting)"), "\(argv)")
                    }
                    seeds.insert(argv.first { $0.hasPrefix("model.model_kwargs.seed=") } ?? "")
                }
            }
            #expect(seeds.count == 3 && !seeds.contains(""), "\(backend): distinct seeds \(seeds)")
        }
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let bad = try await fixture.run(["--backend", "aider", "--temperature", "3"])
        #expect(bad.exitCode == 2 && bad.standardError.contains("--temperature"), "\(bad.standardError)")
    }

    @Test func doctorReportsToolsVersionsAndKeysWithoutTheirValues() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let bin = try FakeAgents.install(in: fixture.scratch)
        try FileManager.default.removeItem(atPath: bin + "/gemini")
        let secret = "sk-ant-doctor-0123456789"
        let doctor = try await FlotillaBinary.run(
            ["doctor", "--output", "json"],
            in: fixture.repository.path,
            environment: ["PATH": bin + ":/usr/bin:/bin", "ANTHROPIC_API_KEY": secret]
        )
        #expect(doctor.exitCode == 0, "\(doctor.standardError)")
        #expect(!doctor.standardOutput.contains(secret))
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(doctor.standardOutput.utf8)) as? [String: Any]
        )
        let agents = try #require(report["agents"] as? [[String: Any]])
        let versions = Dictionary(
            uniqueKeysWithValues: agents.map { ($0["backend"] as? String ?? "", $0["version"] as? String) }
        )
        #expect(versions["claude"] == "2.1.240 (Claude Code)")
        #expect(versions["codex"] == "codex-cli 0.98.0")
        #expect(versions["gemini"] == .some(nil))
        let keys = try #require(report["keys"] as? [[String: Any]])
        #expect(keys.first { $0["name"] as? String == "ANTHROPIC_API_KEY" }?["found"] as? Bool == true)
        #expect(keys.first { $0["name"] as? String == "GEMINI_API_KEY" }?["found"] as? Bool == false)

        // A model server the agent is pointed at must answer: one that does not is a problem that stops a run.
        let closed = try FreePort.pick()
        try fixture.repository.write("flotilla.toml", "[agent]\nbase_url = 'http://127.0.0.1:\(closed)/v1'\n")
        let unreachable = try await FlotillaBinary.run(
            ["doctor"],
            in: fixture.repository.path,
            environment: ["PATH": bin + ":/usr/bin:/bin"]
        )
        #expect(unreachable.exitCode == 1)
        #expect(
            (unreachable.standardOutput + unreachable.standardError).contains(
                "the model server http://127.0.0.1:\(closed)/v1/models did not answer"
            ),
            "\(unreachable.standardOutput)\(unreachable.standardError)"
        )
    }

    @Test func aMissingToolIsAOneLineErrorAndNothingIsCreated() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let run = try await FlotillaBinary.run(
            ["run", "--sandbox-write", fixture.scratch.path, "--backend", "claude", "--verify", "./verify.sh"],
            in: fixture.repository.path,
            environment: ["PATH": "/usr/bin:/bin"]
        )
        #expect(run.exitCode == 2)
        #expect(run.standardError.contains("claude is not installed or not on PATH"), "\(run.standardError)")
        #expect(!FileManager.default.fileExists(atPath: fixture.repository.path + "/.flotilla/ledger.sqlite"))
    }
}

/// The fake agent CLIs, linked under the tools' names into a directory for PATH.
enum FakeAgents {
    static func install(in scratch: TemporaryDirectory) throws -> String {
        let fake = (try FlotillaBinary.path() as NSString).deletingLastPathComponent + "/flotilla-fake-agent"
        let bin = scratch.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for name in ["claude", "codex", "gemini", "opencode", "cursor-agent", "aider", "mini"] {
            try FileManager.default.createSymbolicLink(atPath: "\(bin)/\(name)", withDestinationPath: fake)
        }
        return bin
    }
}
