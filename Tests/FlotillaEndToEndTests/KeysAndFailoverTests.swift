import FlotillaCore
import FlotillaEngine
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

/// API keys reach only the tool that reads them, wherever they were found; a rate-limited tool hands its work to
/// the fallback backend instead of stopping the mission.
@Suite("Keys per backend, and failover on rate limits", .tags(.large), .timeLimit(.minutes(10)))
struct KeysAndFailoverTests {
    static let anthropicKey = "sk-ant-test-4b1f0d93c2e8a7"
    static let geminiKey = "gm-test-9e3a51c07d2b64"
    static let openAIKeyInConfig = "sk-openai-conf-7c2d9e1a4f"

    @Test func eachToolGetsItsOwnKeysTheGateNoneAndTheFallbackTakesOverWithoutWaiting() async throws {
        let fixture = try await MissionFixture(
            checklist: "# Two files\n\n## A\n- [ ] a\n\n## B\n- [ ] b\n",
            groups: ["a", "b"],
            extraFiles: ["dumping-verify.sh": "#!/bin/sh\nenv > \"$ENV_DUMP/verify-$$.env\"\nexec ./verify.sh\n"]
        )
        defer { fixture.remove() }
        _ = try await fixture.repository.git("update-index", "--chmod=+x", "dumping-verify.sh")
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755],
            ofItemAtPath: fixture.repository.path + "/dumping-verify.sh"
        )
        _ = try await fixture.repository.commitAll("a verify that shows what it was given")
        let bin = try FakeAgents.install(in: fixture.scratch)
        let dump = fixture.scratch.file("env")
        try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
        // The OpenAI key is only in the user's config.toml; the others only in the environment.
        let config = fixture.scratch.file("config")
        try FileManager.default.createDirectory(atPath: config + "/flotilla", withIntermediateDirectories: true)
        try "[keys]\nopenai = \"\(Self.openAIKeyInConfig)\"\n".write(
            toFile: config + "/flotilla/config.toml",
            atomically: true,
            encoding: .utf8
        )
        // claude hits its limit on a's first session; codex is the fallback. A 600 s backoff would outlast the
        // test's patience if dispatch were held.
        let plan = try fixture.scratch.write("plan.json", #"{"a": ["rate_limit"]}"#)
        let run = try await FlotillaBinary.run(
            [
                "run", "--sandbox-write", fixture.scratch.path, "--backend", "claude", "--fallback-backend", "codex",
                "--verify", "./dumping-verify.sh",
                "--agents", "1", "--pass-env", "FAKE_AGENT_PLAN", "--pass-env", "FAKE_AGENT_ENV_DUMP", "--pass-env",
                "ENV_DUMP", "--stall-threshold", "1", "--rate-limit-backoff", "600", "--keep-branches", "--output",
                "json",
            ],
            in: fixture.repository.path,
            environment: [
                "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                "FAKE_AGENT_PLAN": plan, "FAKE_AGENT_ENV_DUMP": dump, "ENV_DUMP": dump,
                "ANTHROPIC_API_KEY": Self.anthropicKey, "GEMINI_API_KEY": Self.geminiKey, "XDG_CONFIG_HOME": config,
            ],
            timeout: .seconds(300)
        )
        #expect(run.exitCode == 0, "\(run.standardError)")

        func environment(_ name: String) throws -> [String: String] {
            let text = try String(contentsOfFile: dump + "/" + name, encoding: .utf8)
            var result: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { result[parts[0]] = parts[1] }
            }
            return result
        }
        let claude = try environment("claude-a-1.env")
        #expect(claude["ANTHROPIC_API_KEY"] == Self.anthropicKey)
        #expect(claude["OPENAI_API_KEY"] == nil && claude["CODEX_API_KEY"] == nil && claude["GEMINI_API_KEY"] == nil)
        let codex = try environment("codex-a-2.env")
        #expect(codex["CODEX_API_KEY"] == Self.openAIKeyInConfig)
        #expect(codex["OPENAI_API_KEY"] == Self.openAIKeyInConfig)
        #expect(codex["ANTHROPIC_API_KEY"] == nil && codex["GEMINI_API_KEY"] == nil)
        let verifies = try FileManager.default.contentsOfDirectory(atPath: dump).filter { $0.hasPrefix("verify-") }
        #expect(!verifies.isEmpty)
        for name in verifies {
            let seen = try environment(name)
            for key in ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "CODEX_API_KEY", "GEMINI_API_KEY"] {
                #expect(seen[key] == nil, "the verify command was given \(key)")
            }
        }

        let audit = try await MissionAudit(fixture.repository)
        #expect(audit.mission.state == .completed)
        let attempts = try await audit.ledger.attempts(of: audit.id)
        let limited = try #require(attempts.first { $0.key == AttemptKey(group: "a", number: 1) })
        let takenOver = try #require(attempts.first { $0.key == AttemptKey(group: "a", number: 2) })
        #expect(limited.backend == "claude" && limited.outcome == .agentFailed)
        #expect(limited.reason?.contains("codex takes over") == true, "\(limited.reason ?? "")")
        #expect(takenOver.backend == "codex" && takenOver.outcome == .landed)
        #expect(attempts.first { $0.key.group == "b" }?.backend == "codex")
        // No stall was counted (threshold 1) and no 600 s wait was held.
        #expect(try await audit.ledger.groups(of: audit.id).allSatisfy { $0.escalation == .none })
        #expect(takenOver.startedAt.timeIntervalSince(try #require(limited.finishedAt)) < 120)
        let author = try await fixture.repository.git(
            "log",
            "-1",
            "--format=%an",
            MissionLayout.attemptBranch(audit.id, takenOver.key)
        )
        #expect(author == "Flotilla agent (codex)")

        // The tools echoed their whole environment into their transcripts; none of it is kept.
        let root = fixture.repository.path + "/.flotilla"
        for file in FileManager.default.enumerator(atPath: root)?.compactMap({ $0 as? String }) ?? [] {
            guard let data = FileManager.default.contents(atPath: root + "/" + file) else { continue }
            for key in [Self.anthropicKey, Self.openAIKeyInConfig] {
                #expect(data.range(of: Data(key.utf8)) == nil, "\(file) holds a key")
            }
        }
    }

    @Test func aKeyFileWinsOverTheEnvironmentAndOnlyItsPathIsKept() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let bin = try FakeAgents.install(in: fixture.scratch)
        let dump = fixture.scratch.file("env")
        try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
        let fromFile = "sk-ant-from-file-61c0e9a2b7"
        let keyFile = try fixture.scratch.write("anthropic.key", fromFile + "\n")
        let run = try await FlotillaBinary.run(
            [
                "run", "--sandbox-write", fixture.scratch.path, "--backend", "claude", "--verify", "./verify.sh",
                "--key-file", "anthropic=\(keyFile)",
                "--pass-env", "FAKE_AGENT_ENV_DUMP", "--output", "json",
            ],
            in: fixture.repository.path,
            environment: [
                "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                "FAKE_AGENT_ENV_DUMP": dump, "ANTHROPIC_API_KEY": Self.anthropicKey,
                "XDG_CONFIG_HOME": fixture.scratch.file("none"),
            ]
        )
        #expect(run.exitCode == 0, "\(run.standardError)")
        let session = try String(contentsOfFile: dump + "/claude-a-1.env", encoding: .utf8)
        #expect(session.contains("ANTHROPIC_API_KEY=\(fromFile)\n"))
        let audit = try await MissionAudit(fixture.repository)
        #expect(audit.mission.spec.options.keyFiles == ["anthropic=\(keyFile)"])
        let ledger = try #require(
            FileManager.default.contents(atPath: fixture.repository.path + "/.flotilla/ledger.sqlite")
        )
        #expect(ledger.range(of: Data(fromFile.utf8)) == nil)

        let missing = try await FlotillaBinary.run(
            [
                "run", "--sandbox-write", fixture.scratch.path, "--backend", "claude", "--verify", "./verify.sh",
                "--key-file", "anthropic=/nonexistent/key",
            ],
            in: fixture.repository.path,
            environment: ["PATH": bin + ":/usr/bin:/bin", "XDG_CONFIG_HOME": fixture.scratch.file("none")]
        )
        #expect(missing.exitCode == 2)
        #expect(missing.standardError.contains("--key-file anthropic=/nonexistent/key: cannot read /nonexistent/key"))
    }

    @Test func keysInTheProjectFileAreRefusedWithTheirLine() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        try fixture.repository.write(
            "flotilla.toml",
            "verify = \"./verify.sh\"\n\n[keys]\nanthropic = \"sk-x-123456789\"\n"
        )
        let run = try await FlotillaBinary.run(
            ["run", "--sandbox-write", fixture.scratch.path, "--agent-command", "true"],
            in: fixture.repository.path,
            environment: ["XDG_CONFIG_HOME": fixture.scratch.file("none")]
        )
        #expect(run.exitCode == 2)
        #expect(run.standardError.contains("flotilla.toml:4"), "\(run.standardError)")
        #expect(run.standardError.contains("committed"), "\(run.standardError)")
        #expect(!FileManager.default.fileExists(atPath: fixture.repository.path + "/.flotilla/ledger.sqlite"))
    }
}
