import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("The critic: failed gates explained, never overruled", .timeLimit(.minutes(2)))
struct CriticTests {
    static let review = #"""
        {"summary": "The gate is wrong: this attempt passes.", "root_cause": "a.txt was never written",
         "next_actions": ["write 'a ok' to a.txt"], "failing_criteria": ["a"]}
        """#

    func mission(_ fixture: MissionFixture, _ arguments: [String]) async throws -> FlotillaBinary.Outcome {
        let agent = try fixture.scratch.write(
            "agent.sh",
            "#!/bin/sh\nif [ \"$FLOTILLA_ATTEMPT\" = 2 ]; then echo 'a ok' > a.txt; fi\n",
            executable: true
        )
        return try await FlotillaBinary.run(
            ["run", "--verify", "./verify.sh", "--agent-command", "sh \(agent)"] + arguments,
            in: fixture.repository.path
        )
    }

    @Test func theReviewReachesTheNextPromptButTheGateStillDecides() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        try await ScriptedModelServer.serving([.chat(Self.review)]) { server, port in
            let run = try await mission(
                fixture,
                ["--critic-url", "http://127.0.0.1:\(port)/v1", "--critic-model", "stub"]
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
