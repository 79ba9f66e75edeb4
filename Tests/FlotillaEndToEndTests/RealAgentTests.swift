import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// The real aider and mini-swe-agent, installed from PyPI by `.ci/run` (FLOTILLA_TEST_AIDER, FLOTILLA_TEST_MINI),
/// driven against a scripted OpenAI-compatible server on loopback.
@Suite("Real third-party agents: aider and mini-swe-agent", .tags(.large), .timeLimit(.minutes(10)))
struct RealAgentTests {
    static let aider = ProcessInfo.processInfo.environment["FLOTILLA_TEST_AIDER"]
    static let mini = ProcessInfo.processInfo.environment["FLOTILLA_TEST_MINI"]
    static let expectedSandbox = SandboxAvailability.bubblewrap ? "bwrap, network allowlist" : "none"
    static let checklist = "# Two files\n\n## A\n- [ ] a.txt says a ok\n\n## B\nDepends on: a\n- [ ] b.txt says b ok\n"

    /// An edit in aider's diff format that creates `file` with `line`.
    static func aiderEdit(_ file: String, _ line: String) -> String {
        "\(file)\n```\n<<<<<<< SEARCH\n=======\n\(line)\n>>>>>>> REPLACE\n```\n"
    }

    /// Sampling every run asks for: the tools must send it, and each attempt's seed is its own.
    static let sampling = ["--temperature", "0.7", "--top-p", "0.8", "--top-k", "20", "--seed", "42"]

    /// What each request asked of the model: temperature, top_p, top_k and seed.
    static func sampled(_ requests: [String]) throws -> [[String: Double]] {
        try requests.map { request in
            let body = try #require(try JSONSerialization.jsonObject(with: Data(request.utf8)) as? [String: Any])
            return body.filter { ["temperature", "top_p", "top_k", "seed"].contains($0.key) }
                .compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
    }

    func run(backend: String, binary: String, port: Int, fixture: MissionFixture) async throws -> FlotillaBinary.Outcome
    {
        let home = fixture.scratch.file("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        return try await FlotillaBinary.run(
            [
                "run", "--backend", backend, "--agent-binary", binary, "--model", "openai/stub", "--agent-base-url",
                "http://127.0.0.1:\(port)/v1", "--verify", "./verify.sh", "--agents", "1", "--pass-env",
                "OPENAI_API_KEY", "--attempt-timeout", "180",
            ] + Self.sampling
                // The scripted replies are in aider's diff format, which aider picks for no unknown model itself.
                + (backend == "aider" ? ["--agent-arg", "--edit-format", "--agent-arg", "diff"] : []),
            in: fixture.repository.path,
            // A HOME of its own: the tools write caches and settings there, never in the user's.
            environment: ["OPENAI_API_KEY": "sk-dummy", "HOME": home],
            timeout: .seconds(280)
        )
    }

    @Test(.enabled(if: aider != nil, "aider is installed by .ci/run"))
    func aiderCompletesATwoGroupMissionWithItsOwnEdits() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        defer { fixture.remove() }
        let replies: [ScriptedModelServer.Reply] = [
            .chat(Self.aiderEdit("a.txt", "a ok")), .chat(Self.aiderEdit("b.txt", "b ok")),
        ]
        try await ScriptedModelServer.serving(replies) { server, port in
            let outcome = try await run(
                backend: "aider",
                binary: try #require(Self.aider),
                port: port,
                fixture: fixture
            )
            #expect(outcome.exitCode == 0, "\(outcome.standardOutput)\(outcome.standardError)")
            let audit = try await fixture.audit()
            #expect(audit.mission.state == .completed)
            let head = try #require(await audit.targetHead())
            #expect(await fixture.repository.show(head, "a.txt") == "a ok")
            #expect(await fixture.repository.show(head, "b.txt") == "b ok")
            // Each attempt asked the model once, with its group's criteria in the message aider sent.
            let requests = await server.requests
            try #require(requests.count == 2)
            #expect(requests[0].contains("a.txt says a ok"))
            // aider sent the mission's sampling (not its own temperature 0), each attempt with its own seed.
            let sampled = try Self.sampled(requests)
            #expect(sampled.allSatisfy { $0["temperature"] == 0.7 && $0["top_p"] == 0.8 && $0["top_k"] == 20 })
            #expect(Set(sampled.compactMap { $0["seed"] }).count == 2, "\(sampled)")
            let attempts = try await audit.attempts()
            #expect(
                attempts.allSatisfy {
                    $0.outcome == .landed && $0.usage.inputTokens == 120 && $0.usage.outputTokens == 80
                }
            )
            // In the sandbox, reaching the model on loopback through the allowlist and nothing else.
            #expect(attempts.allSatisfy { $0.sandbox?.hasPrefix(Self.expectedSandbox) == true })
        }
    }

    @Test(.enabled(if: aider != nil, "aider is installed by .ci/run"))
    func aiderGetsTheProtectedFilesThePromptNamesReadOnly() async throws {
        let fixture = try await MissionFixture(
            checklist: "# One\n\n## A\n- [ ] a.txt says a ok, and tests/test_a.py passes\n",
            groups: ["a"],
            extraFiles: ["tests/test_a.py": "def test_a(): pass\n", "notes_a.md": "not named\n"]
        )
        defer { fixture.remove() }
        try await ScriptedModelServer.serving([.chat(Self.aiderEdit("a.txt", "a ok"))]) { server, port in
            let outcome = try await run(
                backend: "aider",
                binary: try #require(Self.aider),
                port: port,
                fixture: fixture
            )
            #expect(outcome.exitCode == 0, "\(outcome.standardOutput)\(outcome.standardError)")
            // The prompt names the check (`./verify.sh`), the protected paths and the existing test: aider would
            // have added each as a file to edit. It shows them to the model as files not to edit instead.
            let request = try #require(await server.requests.first)
            let readOnly = try #require(request.range(of: "READ ONLY files"))
            for file in ["verify.sh", "ACCEPTANCE.md", "tests/test_a.py"] {
                #expect(request[readOnly.upperBound...].contains(file), "\(file) is not read-only")
            }
            #expect(!request.contains("added these files to the chat"))
            #expect(!request.contains("not named"))
        }
    }

    @Test(.enabled(if: mini != nil, "mini-swe-agent is installed by .ci/run"))
    func miniSWEAgentCompletesATwoGroupMissionWithItsOwnCommands() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        defer { fixture.remove() }
        let replies: [ScriptedModelServer.Reply] = [
            .bash("echo 'a ok' > a.txt"), .bash("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"),
            .bash("echo 'b ok' > b.txt"), .bash("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"),
        ]
        try await ScriptedModelServer.serving(replies) { server, port in
            let outcome = try await run(backend: "mini", binary: try #require(Self.mini), port: port, fixture: fixture)
            #expect(outcome.exitCode == 0, "\(outcome.standardOutput)\(outcome.standardError)")
            let audit = try await fixture.audit()
            #expect(audit.mission.state == .completed)
            let head = try #require(await audit.targetHead())
            #expect(await fixture.repository.show(head, "a.txt") == "a ok")
            #expect(await fixture.repository.show(head, "b.txt") == "b ok")
            #expect(await server.requests.count == 4)
            // mini sent the mission's sampling; a session keeps its seed, the next attempt has another.
            let sampled = try Self.sampled(await server.requests)
            #expect(sampled.allSatisfy { $0["temperature"] == 0.7 && $0["top_p"] == 0.8 && $0["top_k"] == 20 })
            let seeds = sampled.map { $0["seed"] }
            try #require(seeds.count == 4, "\(seeds)")
            #expect(seeds[0] != nil && seeds[0] == seeds[1] && seeds[2] == seeds[3] && seeds[1] != seeds[2], "\(seeds)")
            // The trajectory, not the exit status, said each session submitted.
            let attempts = try await audit.attempts()
            #expect(attempts.map(\.outcome) == [.landed, .landed])
            #expect(attempts.allSatisfy { $0.sandbox?.hasPrefix(Self.expectedSandbox) == true })
            #expect(
                FileManager.default.fileExists(
                    atPath: audit.missionDirectory + "/agent_outputs/a-1.log.mini/trajectory.json"
                )
            )
        }
    }
}
