import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("The critic: failed gates explained, never overruled", .tags(.large), .timeLimit(.minutes(10)))
struct CriticTests {
    static let review = #"""
        {"summary": "The gate is wrong: this attempt passes.", "root_cause": "a.txt was never written",
         "next_actions": ["write 'a ok' to a.txt"], "failing_criteria": ["a"]}
        """#

    /// A user config.toml pricing the scripted server's model, so its calls cost something.
    static func pricedConfig(_ scratch: TemporaryDirectory) throws -> String {
        let config = scratch.file("config")
        try FileManager.default.createDirectory(atPath: config + "/flotilla", withIntermediateDirectories: true)
        try "[pricing.\"stub\"]\ninput = 1\noutput = 2\ncache_read = 0.5\n".write(
            toFile: config + "/flotilla/config.toml",
            atomically: true,
            encoding: .utf8
        )
        return config
    }

    /// What one scripted answer costs at those prices: 100 fresh and 20 cached tokens in, 80 out
    /// (100 × $1 + 20 × $0.5 + 80 × $2 per million).
    static let scriptedCallUSD: Double = 270.0 / 1_000_000

    func mission(
        _ fixture: MissionFixture,
        _ arguments: [String],
        environment: [String: String] = [:]
    ) async throws -> FlotillaBinary.Outcome {
        let agent = try fixture.scratch.write(
            "agent.sh",
            "#!/bin/sh\nif [ \"$FLOTILLA_ATTEMPT\" = 2 ]; then echo 'a ok' > a.txt; fi\n",
            executable: true
        )
        return try await FlotillaBinary.run(
            [
                "run", "--sandbox-write", fixture.scratch.path, "--verify", "./verify.sh", "--agent-command",
                "sh \(agent)",
            ] + arguments,
            in: fixture.repository.path,
            environment: environment
        )
    }

    @Test func theReviewReachesTheNextPromptButTheGateStillDecides() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        try await ScriptedModelServer.serving([.chat(Self.review)]) { server, port in
            let run = try await mission(
                fixture,
                ["--critic-url", "http://127.0.0.1:\(port)/v1", "--critic-model", "stub"],
                environment: ["XDG_CONFIG_HOME": try Self.pricedConfig(fixture.scratch)]
            )
            #expect(run.exitCode == 0, "\(run.standardError)")
            let audit = try await MissionAudit(fixture.repository)
            let attempts = try await audit.ledger.attempts(of: audit.id)
            // Advice only: the critic said the attempt passes; it failed all the same.
            #expect(attempts.map(\.outcome) == [.gateFailed, .landed])
            #expect(attempts[0].feedback?.contains("Root cause: a.txt was never written") == true)
            let prompt = try String(
                contentsOfFile: audit.missionDirectory + "/agent_outputs/a-2.prompt.md",
                encoding: .utf8
            )
            #expect(prompt.contains("Root cause: a.txt was never written"))
            #expect(prompt.contains("write 'a ok' to a.txt"))
            // It was asked about the failed gate, with the group's criteria.
            let question = try #require(await server.requests.first)
            #expect(question.contains("FAIL a"))
            #expect(await server.requests.count == 1)
            let log = try String(contentsOfFile: audit.missionDirectory + "/mission.log", encoding: .utf8)
            #expect(log.contains("Critic: http://127.0.0.1:\(port)/v1 stub"))

            // The call has its own ledger row; its cost is the attempt's, and so the mission's.
            let calls = try await audit.ledger.modelCalls(of: audit.id)
            #expect(calls.count == 1)
            let call = try #require(calls.first?.call)
            #expect(call.role == .critic && call.attempt == AttemptKey(group: "a", number: 1) && call.model == "stub")
            #expect(call.usage.inputTokens == 100 && call.usage.cacheReadTokens == 20 && call.usage.outputTokens == 80)
            #expect(abs(call.usage.costUSD - Self.scriptedCallUSD) < 1e-12)
            #expect(abs(attempts[0].usage.costUSD - Self.scriptedCallUSD) < 1e-12)
            #expect(abs(audit.mission.spentUSD - Self.scriptedCallUSD) < 1e-12)
            let history = try await FlotillaBinary.run(
                ["history", audit.id.rawValue, "--output", "json"],
                in: fixture.repository.path
            )
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(history.standardOutput.utf8)) as? [String: Any]
            )
            let rows = try #require(object["model_calls"] as? [[String: Any]])
            #expect(rows.count == 1 && rows[0]["role"] as? String == "critic" && rows[0]["group"] as? String == "a")
        }
    }

    @Test func withoutACriticTheLogSaysSoAndAnUnreachableOneIsNoted() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let run = try await mission(fixture, [])
        #expect(run.exitCode == 0, "\(run.standardError)")
        let audit = try await MissionAudit(fixture.repository)
        let log = try String(contentsOfFile: audit.missionDirectory + "/mission.log", encoding: .utf8)
        #expect(log.contains("Critic: none configured"))

        let other = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { other.remove() }
        // A server that answers garbage: the review is missing, the mission goes on.
        try await ScriptedModelServer.serving([.chat("no json here")]) { _, port in
            let run = try await mission(other, ["--critic-url", "http://127.0.0.1:\(port)/v1"])
            #expect(run.exitCode == 0, "\(run.standardError)")
            let attempts = try await MissionAudit(other.repository).attempts()
            #expect(attempts[0].feedback?.contains("The critic could not review this attempt") == true)
        }
    }
}
