import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

/// `--review advise|block` end to end: a scripted model reviews verified attempts; it may hold work back, never pass
/// what the gate failed, and a reviewer that errors or hangs blocks nothing.
@Suite("Review before landing, end to end", .tags(.large), .timeLimit(.minutes(10)))
struct ReviewTests {
    static let checklist = "# One\n\n## A\n- [ ] a.txt says a ok, and test_a.py keeps its assertions\n"
    static let tests = "def test_a():\n    assert open('a.txt').read() == 'a ok\\n'\n    assert True\n"

    /// The first attempt writes a.txt and deletes an assertion (the gate, which checks a.txt, passes it); the second
    /// writes a.txt only.
    ///
    /// With `crashAt`, Flotilla is killed at that checkpoint and the mission resumed.
    func mission(
        _ arguments: [String],
        crashAt checkpoint: String? = nil,
        _ body: (MissionFixture, FlotillaBinary.Outcome) async throws -> Void
    )
        async throws
    {
        let fixture = try await MissionFixture(
            checklist: Self.checklist,
            groups: ["a"],
            extraFiles: ["test_a.py": Self.tests]
        )
        defer { fixture.remove() }
        let agent = try fixture.scratch.write(
            "agent.sh",
            """
            echo 'a ok' > a.txt
            if [ "$FLOTILLA_ATTEMPT" = 1 ]; then sed -i '/assert open/d' test_a.py; fi

            """
        )
        let arguments = ["--agent-command", "sh \(agent)", "--allow-test-edits", "--max-attempts", "3"] + arguments
        let environment = ["XDG_CONFIG_HOME": try CriticTests.pricedConfig(fixture.scratch)]
        let outcome =
            if let checkpoint {
                try await fixture.crashThenResume(arguments, at: checkpoint, environment: environment)
            } else {
                try await fixture.run(arguments, environment: environment)
            }
        try await body(fixture, outcome)
    }

    @Test func aBlockingReviewSendsBackADiffThatDeletesAnAssertionThoughTheGatePassed() async throws {
        let low = #"{"score": 2, "summary": "It deletes an assertion from test_a.py.", "concerns": ["put it back"]}"#
        let high = #"{"score": 9, "summary": "Does what the group asks.", "concerns": []}"#
        try await ScriptedModelServer.serving([.chat(low), .chat(high)]) { server, port in
            try await mission(
                ["--critic-url", "http://127.0.0.1:\(port)/v1", "--critic-model", "stub", "--review", "block"]
            ) { fixture, outcome in
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                let audit = try await fixture.audit()
                let attempts = try await audit.attempts()
                #expect(attempts.map(\.outcome) == [.rejected, .landed])
                #expect(attempts[0].reason?.hasPrefix("the review scored it 2/10, under 6") == true)
                // The gate had passed it: the review held it back, the gate did not fail it.
                let gates = try await audit.verifications().filter { $0.verification.kind == .gate }
                #expect(gates.first?.verification.passed == true)
                // The reviewer read the deletion; the next attempt read the review.
                let question = try #require(await server.requests.first)
                #expect(question.contains("-    assert open('a.txt')"), "\(question.prefix(2000))")
                let prompt = try audit.prompt("a", 2)
                #expect(prompt.contains("It deletes an assertion from test_a.py.") && prompt.contains("put it back"))
                // Cost and verdict are ledger rows: a reviewer call per attempt, priced, and a scored event.
                let calls = try await audit.ledger.modelCalls(of: audit.id)
                #expect(calls.map(\.call.role) == [.reviewer, .reviewer])
                #expect(calls.allSatisfy { abs($0.call.usage.costUSD - CriticTests.scriptedCallUSD) < 1e-9 })
                let scored = try await audit.events().compactMap { $0.payload(MissionEvent.ReviewScored.self) }
                #expect(scored.map(\.score) == [2, 9])
                #expect(scored.map(\.blocks) == [true, false])
                let head = try #require(await audit.targetHead())
                let landedTests = await fixture.repository.show(head, "test_a.py")
                #expect(landedTests == Self.tests.trimmingCharacters(in: .newlines), "the assertion stayed")
            }
        }
    }

    @Test func anAdvisingReviewRecordsItsScoreAndBlocksNothing() async throws {
        let low = #"{"score": 1, "summary": "It deletes an assertion.", "concerns": []}"#
        try await ScriptedModelServer.serving([.chat(low)]) { _, port in
            try await mission(["--critic-url", "http://127.0.0.1:\(port)/v1", "--review", "advise"]) {
                fixture,
                outcome in
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                let audit = try await fixture.audit()
                #expect(try await audit.attempts().map(\.outcome) == [.landed])
                let scored = try await audit.events().compactMap { $0.payload(MissionEvent.ReviewScored.self) }
                #expect(scored.map(\.score) == [1] && scored.first?.blocks == false)
            }
        }
    }

    @Test func aReviewerThatErrsOrHangsNeverBlocks() async throws {
        // Garbage for an answer.
        try await ScriptedModelServer.serving([.chat("no json here")]) { _, port in
            try await mission(["--critic-url", "http://127.0.0.1:\(port)/v1", "--review", "block"]) {
                fixture,
                outcome in
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                let audit = try await fixture.audit()
                #expect(try await audit.attempts().map(\.outcome) == [.landed])
                let scored = try #require(try await audit.events().first { $0.kind == .reviewScored })
                #expect(scored.message.contains("gave no usable review"), "\(scored.message)")
            }
        }
        // No answer at all: the review's timeout ends it.
        try await NotificationReceiver.serving(otherwise: .hang) { _, port in
            try await mission(
                ["--critic-url", "http://127.0.0.1:\(port)/v1", "--review", "block", "--review-timeout", "1"]
            ) { fixture, outcome in
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                let audit = try await fixture.audit()
                #expect(try await audit.attempts().map(\.outcome) == [.landed])
                let call = try #require(try await audit.ledger.modelCalls(of: audit.id).first)
                #expect(call.call.role == .reviewer && call.call.error == "no answer within 1.0s")
            }
        }
    }

    @Test func aCrashBetweenTheGateAndTheReviewNeverLandsTheAttemptUnreviewed() async throws {
        // Attempt 1 deletes an assertion and passes its gate; Flotilla is killed before its review. Resumed, it must not
        // land as if reviewed: it is interrupted, and attempt 2 is reviewed and lands.
        let high = #"{"score": 9, "summary": "Does what the group asks.", "concerns": []}"#
        try await ScriptedModelServer.serving([.chat(high)]) { server, port in
            try await mission(
                ["--critic-url", "http://127.0.0.1:\(port)/v1", "--critic-model", "stub", "--review", "block"],
                crashAt: "gate.recorded#1"
            ) { fixture, resumed in
                #expect(resumed.exitCode == 0, "\(resumed.standardOutput)\(resumed.standardError)")
                // One review in all, attempt 2's: none was asked before the kill.
                #expect(await server.requests.count == 1)
                let audit = try await fixture.audit()
                let attempts = try await audit.attempts()
                #expect(attempts.map(\.outcome) == [.interrupted, .landed], "\(attempts)")
                let calls = try await audit.ledger.modelCalls(of: audit.id)
                #expect(
                    calls.map(\.call.role) == [.reviewer]
                        && calls.first?.call.attempt == AttemptKey(group: "a", number: 2)
                )
                let head = try #require(await audit.targetHead())
                let landedTests = await fixture.repository.show(head, "test_a.py")
                #expect(
                    landedTests == Self.tests.trimmingCharacters(in: .newlines),
                    "the unreviewed deletion did not land"
                )
            }
        }
    }

    @Test func anArchitectPlansTheAttemptReadOnlyAndBothSessionsAreRecorded() async throws {
        let plan = #"{"steps": ["Write 'a ok' to a.txt", "Leave test_a.py alone"], "files": ["a.txt"]}"#
        try await ScriptedModelServer.serving([.chat(plan)]) { server, port in
            try await mission([
                "--critic-url", "http://127.0.0.1:\(port)/v1", "--critic-model", "stub", "--architect", "critic",
            ]) {
                fixture,
                outcome in
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                let audit = try await fixture.audit()
                let prompt = try audit.prompt("a", 1)
                #expect(prompt.contains("A read-only architect pass planned this attempt"), "\(prompt)")
                #expect(prompt.contains("1. Write 'a ok' to a.txt\n2. Leave test_a.py alone\nFiles to change: a.txt"))
                // The architect read the attempt's own prompt: the group and its criteria.
                #expect(try #require(await server.requests.first).contains("a.txt says a ok"))
                let calls = try await audit.ledger.modelCalls(of: audit.id)
                #expect(calls.map(\.call.role) == [.architect] && calls.first?.call.attempt?.group == "a")
                #expect(abs((calls.first?.call.usage.costUSD ?? 0) - CriticTests.scriptedCallUSD) < 1e-9)
            }
        }
        // An architect that answers garbage leaves the attempt as it would have been.
        try await ScriptedModelServer.serving([.chat("no json here")]) { _, port in
            try await mission(["--critic-url", "http://127.0.0.1:\(port)/v1", "--architect", "critic"]) {
                fixture,
                outcome in
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                let audit = try await fixture.audit()
                #expect(!(try audit.prompt("a", 1)).contains("architect pass"))
                let call = try #require(try await audit.ledger.modelCalls(of: audit.id).first)
                #expect(call.call.role == .architect && call.call.error != nil)
            }
        }
    }

    @Test func anArchitectOfItsOwnPlansWithItsModelAndTheCriticIsNotNeeded() async throws {
        let plan = #"{"steps": ["Write 'a ok' to a.txt"], "files": ["a.txt"]}"#
        try await ScriptedModelServer.serving([.chat(plan)]) { server, port in
            try await mission([
                "--architect", "openai:planner-model", "--architect-url", "http://127.0.0.1:\(port)/v1",
            ]) { fixture, outcome in
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                let audit = try await fixture.audit()
                #expect(try audit.prompt("a", 1).contains("1. Write 'a ok' to a.txt"))
                let asked = try #require(await server.requests.first)
                #expect(
                    asked.contains("\"model\":\"planner-model\"") || asked.contains("\"model\" : \"planner-model\"")
                )
                let calls = try await audit.ledger.modelCalls(of: audit.id)
                #expect(calls.map(\.call.role) == [.architect] && calls.first?.call.error == nil)
            }
        }
        // Named badly, or `critic` without a critic: refused before anything is created.
        for (arguments, message) in [
            (["--architect", "gpt"], "--architect must be critic, or openai, anthropic, claude, codex"),
            (["--architect", "claude:"], "--architect must be critic"),
            (["--architect", "critic"], "--architect critic needs a model to plan with"),
            (["--architect", "anthropic", "--architect-url", "http://127.0.0.1:1/v1"], "--architect-url is for"),
        ] {
            try await mission(arguments) { fixture, outcome in
                #expect(outcome.exitCode == 2, "\(arguments)")
                #expect(outcome.standardError.contains(message), "\(arguments): \(outcome.standardError)")
                let listed = try await FlotillaBinary.run(["list"], in: fixture.repository.path)
                #expect(!listed.standardOutput.contains("m-"))
            }
        }
    }

    @Test func aDiffTheHackCheckFlagsWaitsForAPersonAndNoTimeoutLandsIt() async throws {
        // The hack check reads attempt 1's deletion of an assertion and flags it: it waits for a person, and the
        // approval timeout, whose action is approve, rejects it instead. Attempt 2 is honest and lands. A model that
        // gives no verdict holds the attempt too.
        let flagged = #"{"special_casing": true, "reason": "It deletes the assertion that checks a.txt."}"#
        let honest = #"{"special_casing": false, "reason": ""}"#
        try await ScriptedModelServer.serving([.chat(flagged), .chat(honest)]) { server, port in
            try await mission([
                "--critic-url", "http://127.0.0.1:\(port)/v1", "--critic-model", "stub", "--hack-check",
                "--approval-timeout", "1", "--approval-timeout-action", "approve",
            ]) { fixture, outcome in
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                let audit = try await fixture.audit()
                let attempts = try await audit.attempts()
                #expect(attempts.map(\.outcome) == [.rejected, .landed])
                #expect(attempts.first?.reason?.contains("the timeout never lands it") == true, "\(attempts)")
                let asked = try #require(try await audit.events().first { $0.kind == .approvalRequested })
                #expect(
                    asked.message.contains(
                        "a#1 passed its gate, but the hack check says it special-cases the tests: It deletes the assertion"
                    ),
                    "\(asked.message)"
                )
                let calls = try await audit.ledger.modelCalls(of: audit.id)
                #expect(calls.map(\.call.role) == [.hackCheck, .hackCheck])
                // The model read the diff it judged.
                #expect(try #require(await server.requests.first).contains("assert open"))
                let head = try #require(await audit.targetHead())
                let tests = try await fixture.repository.git("show", "\(head):test_a.py")
                #expect(tests.contains("assert open"), "the flagged deletion landed")
            }
        }
        try await mission(["--hack-check"]) { fixture, outcome in
            #expect(outcome.exitCode == 2)
            #expect(outcome.standardError.contains("--hack-check needs a model"), "\(outcome.standardError)")
        }
    }

    @Test func aReviewNeedsAModel() async throws {
        try await mission(["--review", "block"]) { fixture, outcome in
            #expect(outcome.exitCode == 2)
            #expect(
                outcome.standardError.contains("--review block needs a model to review with"),
                "\(outcome.standardError)"
            )
            let listed = try await FlotillaBinary.run(["list"], in: fixture.repository.path)
            #expect(!listed.standardOutput.contains("m-"), "nothing was created: \(listed.standardOutput)")
        }
    }
}
