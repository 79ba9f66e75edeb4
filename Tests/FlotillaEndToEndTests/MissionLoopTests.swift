import FlotillaCore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

/// `flotilla run` end to end: the built binary, real git, the real SQLite ledger, real processes.
@Suite("Mission loop, end to end", .tags(.large), .timeLimit(.minutes(10)))
struct MissionLoopTests {
    static let twoIndependent = "# Two things\n\n## A\n- [ ] a.txt says a ok\n\n## B\n- [ ] b.txt says b ok\n"
    static let bAfterA = "# In order\n\n## A\n- [ ] a.txt says a ok\n\n## B\nDepends on: a\n- [ ] b.txt says b ok\n"

    @Test func independentGroupsRunConcurrentlyAndBothLand() async throws {
        let fixture = try await MissionFixture(checklist: Self.twoIndependent, groups: ["a", "b"])
        defer { fixture.remove() }
        // The barrier only opens when both agents are inside it: if they did not run at the same time, it never would.
        let outcome = try await fixture.simulate(
            """
            {"barriers": {"together": 2}, "groups": {
              "a": [{"barrier": "together", "write": {"a.txt": "a ok\\n"}}],
              "b": [{"barrier": "together", "write": {"b.txt": "b ok\\n"}}]}}
            """,
            ["--agents", "2", "--attempt-timeout", "30", "--max-cost", "-1", "--timeout", "-1", "--max-attempts", "-1"]
        )
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        let attempts = try await audit.attempts()
        #expect(attempts.map(\.outcome) == [.landed, .landed])
        let a = try #require(attempts.first { $0.key.group == "a" })
        let b = try #require(attempts.first { $0.key.group == "b" })
        let aEnd = try #require(a.finishedAt)
        let bEnd = try #require(b.finishedAt)
        #expect(a.startedAt < bEnd && b.startedAt < aEnd, "the two attempts should overlap in time")
        #expect(Set([a.slot, b.slot]) == [1, 2])
        let events = try await audit.events()
        let firstAgentDone = try #require(events.firstIndex { $0.kind == .agentFinished })
        #expect(events.prefix(firstAgentDone).filter { $0.kind == .attemptStarted }.count == 2)
        let head = try #require(await audit.targetHead())
        #expect(await fixture.repository.show(head, "a.txt") == "a ok")
        #expect(await fixture.repository.show(head, "b.txt") == "b ok")
        #expect(audit.mission.state == .completed)
        #expect(audit.mission.spec.limits.maxCostUSD == nil && audit.mission.spec.limits.maxWallClock == nil)
    }

    @Test func aDependentGroupStartsOnlyAfterItsDependencyLanded() async throws {
        let fixture = try await MissionFixture(checklist: Self.bAfterA, groups: ["a", "b"])
        defer { fixture.remove() }
        let outcome = try await fixture.simulate(
            """
            {"delay_ms": 50, "groups": {"a": [{"write": {"a.txt": "a ok\\n"}}], "b": [{"write": {"b.txt": "b ok\\n"}}]}}
            """,
            ["--agents", "2"]
        )
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        let events = try await audit.events()
        let aLanded = try #require(events.firstIndex(.attemptLanded, group: "a"))
        let bStarted = try #require(events.firstIndex(.attemptStarted, group: "b"))
        #expect(aLanded < bStarted)
        let a = try #require(try await audit.attempt("a", 1))
        let b = try #require(try await audit.attempt("b", 1))
        #expect(b.startCommit == a.landedCommit, "b starts from the commit where a landed")
        #expect(try audit.prompt("b", 1).contains("- `a` — A"))
        #expect(try await audit.attempts().count == 2)
    }

    @Test func failThenPassFeedsTheGateFailureToTheNextPrompt() async throws {
        let fixture = try await MissionFixture(checklist: Self.twoIndependent, groups: ["a", "b"])
        defer { fixture.remove() }
        let outcome = try await fixture.simulate(
            """
            {"groups": {"a": [{"write": {"a.txt": "a nope\\n"}}, {"write": {"a.txt": "a ok\\n"}}],
                        "b": [{"write": {"b.txt": "b ok\\n"}}]}}
            """
        )
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        #expect(try await audit.attempt("a", 1)?.outcome == .gateFailed)
        #expect(try await audit.attempt("a", 2)?.outcome == .landed)
        let prompt = try audit.prompt("a", 2)
        #expect(prompt.contains("### Attempt 1: gate_failed"))
        #expect(prompt.contains("FAIL a: a.txt should say 'a ok', found 'a nope'"))
        #expect(!(try audit.prompt("a", 1)).contains("Earlier attempts"))
        let gate = try await audit.verifications().first {
            $0.verification.attempt == AttemptKey(group: "a", number: 1)
        }
        #expect(gate?.verification.passed == false && gate?.verification.exitCode == 1)
        #expect(gate?.verification.groups == ["a"])
    }

    @Test func editingTheGateOrAProtectedPathIsRejectedAndNeverLands() async throws {
        let fixture = try await MissionFixture(checklist: Self.twoIndependent, groups: ["a", "b"])
        defer { fixture.remove() }
        let outcome = try await fixture.simulate(
            """
            {"groups": {
              "a": [{"write": {"a.txt": "a nope\\n", "verify.sh": "#!/bin/sh\\nexit 0\\n"}}, {"write": {"a.txt": "a ok\\n"}}],
              "b": [{"write": {"b.txt": "b ok\\n", "tests/b_test.sh": "true\\n"}}, {"write": {"b.txt": "b ok\\n"}}]}}
            """,
            ["--protect", "tests/"]
        )
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        let a1 = try #require(try await audit.attempt("a", 1))
        let b1 = try #require(try await audit.attempt("b", 1))
        #expect(a1.outcome == .rejected)
        #expect(a1.reason?.contains("verify.sh (protected by `/verify.sh`)") == true)
        #expect(b1.outcome == .rejected)
        #expect(b1.reason?.contains("tests/b_test.sh (protected by `tests/`)") == true)
        // Rejected before grading: no gate ran on them.
        let gated = try await audit.verifications().compactMap(\.verification.attempt)
        #expect(!gated.contains(a1.key) && !gated.contains(b1.key))
        // The target branch never held the cheating commits, and its gate is the original.
        let head = try #require(await audit.targetHead())
        let history = try await fixture.repository.commits(audit.mission.spec.baseCommit, head)
        for cheat in [a1.commit, b1.commit].compactMap({ $0 }) {
            #expect(!history.contains(cheat))
            let isAncestor = try? await fixture.repository.git("merge-base", "--is-ancestor", cheat, head)
            #expect(isAncestor == nil)
        }
        #expect(await fixture.repository.show(head, "verify.sh") == MissionFixture.verifyScript.trimmingWhitespace())
        #expect(await fixture.repository.show(head, "tests/b_test.sh") == nil)
        #expect(try audit.prompt("a", 2).contains("modified protected paths: verify.sh"))
        #expect(try audit.prompt("b", 2).contains("`tests/`"))
    }

    @Test func conflictingEditsOneLandsTheOtherRedoesItsWork() async throws {
        let fixture = try await MissionFixture(checklist: Self.twoIndependent, groups: ["a", "b"])
        defer { fixture.remove() }
        let outcome = try await fixture.simulate(
            """
            {"barriers": {"together": 2}, "groups": {
              "a": [{"barrier": "together", "write": {"a.txt": "a ok\\n", "shared.txt": "from a\\n"}},
                    {"write": {"a.txt": "a ok\\n"}, "append": {"shared.txt": "from a\\n"}}],
              "b": [{"barrier": "together", "write": {"b.txt": "b ok\\n", "shared.txt": "from b\\n"}},
                    {"write": {"b.txt": "b ok\\n"}, "append": {"shared.txt": "from b\\n"}}]}}
            """,
            ["--agents", "2"]
        )
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        let attempts = try await audit.attempts()
        let conflicts = attempts.filter { $0.outcome == .conflict }
        #expect(conflicts.count == 1)
        let loser = try #require(conflicts.first).key.group
        #expect(try await audit.attempt(loser, 2)?.outcome == .landed)
        let prompt = try audit.prompt(loser, 2)
        #expect(prompt.contains("conflicted with work that landed meanwhile, in: shared.txt"))
        let head = try #require(await audit.targetHead())
        let shared = try #require(await fixture.repository.show(head, "shared.txt"))
        #expect(shared.contains("from a") && shared.contains("from b"))
    }

    @Test func aChangeThatBreaksALandedGroupDoesNotLand() async throws {
        let fixture = try await MissionFixture(checklist: Self.bAfterA, groups: ["a", "b"])
        defer { fixture.remove() }
        let outcome = try await fixture.simulate(
            """
            {"groups": {"a": [{"write": {"a.txt": "a ok\\n"}}],
                        "b": [{"write": {"b.txt": "b ok\\n", "a.txt": "broken\\n"}}, {"write": {"b.txt": "b ok\\n"}}]}}
            """
        )
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        let b1 = try #require(try await audit.attempt("b", 1))
        #expect(b1.outcome == .regression)
        // Its own gate passed; the regression verify of the merged commit did not.
        let checks = try await audit.verifications().filter { $0.verification.attempt == b1.key }
        #expect(checks.map(\.verification.kind) == [.gate, .regression])
        #expect(checks.map(\.verification.passed) == [true, false])
        #expect(checks.last?.verification.groups == ["b"])
        #expect(checks.last?.verification.landedGroupsChecked == 1)
        #expect(checks.last?.verification.command == "FLOTILLA_GROUPS=<1 landed>,b ./verify.sh")
        let rejectedMerge = try #require(checks.last?.verification.commit)
        let head = try #require(await audit.targetHead())
        #expect(!(try await fixture.repository.commits(audit.mission.spec.baseCommit, head)).contains(rejectedMerge))
        #expect(await fixture.repository.show(head, "a.txt") == "a ok")
        #expect(try audit.prompt("b", 2).contains("broke verified groups"))
        #expect(try await audit.attempt("b", 2)?.outcome == .landed)
    }

    @Test func aGroupThatAlwaysFailsBlocksWithItsDependentsAndExits3() async throws {
        let checklist = "# T\n\n## A\n- [ ] a\n\n## B\nDepends on: a\n- [ ] b\n\n## C\n- [ ] c\n"
        let fixture = try await MissionFixture(checklist: checklist, groups: ["a", "b", "c"])
        defer { fixture.remove() }
        let outcome = try await fixture.simulate(
            """
            {"groups": {"a": [{"write": {"a.txt": "never right\\n"}}], "c": [{"write": {"c.txt": "c ok\\n"}}]}}
            """,
            ["--stall-threshold", "1", "--agents", "2"]
        )
        #expect(outcome.exitCode == 3, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        #expect(audit.mission.state == .blocked && audit.mission.stopReason == .blocked)
        let groups = try await audit.groups()
        #expect(groups.map(\.status) == [.blocked, .blocked, .done])
        #expect(try await audit.attempts().filter { $0.key.group == "a" }.count == 2)
        #expect(try await audit.attempts().contains { $0.key.group == "b" } == false)
        #expect(try audit.prompt("a", 2).contains("## Change of strategy required"))
        let events = try await audit.events()
        #expect(
            events.contains { $0.kind == .attemptFailed && $0.message.contains("group blocked with its dependents b") }
        )
        #expect(outcome.standardOutput.contains("blocked"))
    }

    @Test func maxAttemptsStopsTheRunWithExit5() async throws {
        let fixture = try await MissionFixture(checklist: Self.twoIndependent, groups: ["a", "b"])
        defer { fixture.remove() }
        let outcome = try await fixture.simulate(
            #"{"groups": {"a": [{"write": {"a.txt": "no\n"}}], "b": [{"write": {"b.txt": "no\n"}}]}}"#,
            ["--max-attempts", "3", "--agents", "1", "--stall-threshold", "10"]
        )
        #expect(outcome.exitCode == 5, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        #expect(try await audit.attempts().count == 3)
        #expect(audit.mission.stopReason == .maxAttempts)
        #expect(audit.mission.breakerDetail?.contains("3 of 3 attempts used") == true)
        #expect(try await audit.events().contains { $0.kind == .breakerTripped })
    }

    @Test func maxCostStopsBeforeSpendingPastTheLimit() async throws {
        let fixture = try await MissionFixture(checklist: Self.twoIndependent, groups: ["a", "b"])
        defer { fixture.remove() }
        let outcome = try await fixture.simulate(
            #"{"default": {"write": {"x.txt": "nothing useful\n"}, "cost_usd": 0.4}}"#,
            ["--max-cost", "1", "--agents", "1", "--stall-threshold", "10", "--output", "json"]
        )
        #expect(outcome.exitCode == 5, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        let attempts = try await audit.attempts()
        #expect(attempts.count == 2)
        #expect(audit.mission.spentUSD == 0.8)
        #expect(audit.mission.stopReason == .maxCost)
        #expect(audit.mission.breakerDetail?.contains("projected $1.20") == true)
        // --output json: one status document on stdout.
        let status = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
        #expect(status?["stop_reason"] as? String == "max_cost")
        #expect(status?["cost_usd"] as? Double == 0.8)
    }

    @Test func aHungAgentIsKilledWithItsChildrenAndRetried() async throws {
        let fixture = try await MissionFixture(checklist: "# T\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let envFile = fixture.scratch.file("env.txt")
        let stdinFile = fixture.scratch.file("stdin.txt")
        let agent = try fixture.scratch.write(
            "agent.sh",
            """
            #!/bin/sh
            if [ "$FLOTILLA_ATTEMPT" = 1 ]; then
                sleep 600 &
                wait
            fi
            cat > \(stdinFile)
            env | grep '^FLOTILLA_' | sort > \(envFile)
            echo "a ok" > a.txt
            echo '{"cost_usd": 0.05, "input_tokens": 1200, "output_tokens": 300, "message": "wrote a.txt"}'

            """,
            executable: true
        )
        let started = ContinuousClock.now
        // Long enough for the second attempt's sandbox and shell on a loaded machine (3 s was not, in CI); attempt 1 hangs.
        let outcome = try await fixture.run(["--agent-command", agent, "--attempt-timeout", "30"])
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        // Far less than the 600 s the first attempt sleeps: it was killed at its timeout (a bound, not a speed figure:
        // it once took 60.2 s on two cores shared with the real model).
        #expect(ContinuousClock.now - started < .seconds(300))
        let audit = try await fixture.audit()
        let first = try #require(try await audit.attempt("a", 1))
        #expect(first.outcome == .timedOut)
        #expect(try audit.prompt("a", 2).contains("time limit"))
        #expect(await MissionProcesses.waitUntilNoneRuns(audit.id) == [], "the agent's child survived the timeout")
        // The command backend's contract: variables, prompt on stdin, cost from a JSON line.
        let second = try #require(try await audit.attempt("a", 2))
        #expect(second.outcome == .landed)
        #expect(second.usage == Usage(inputTokens: 1200, outputTokens: 300, costUSD: 0.05))
        let variables = try String(contentsOfFile: envFile, encoding: .utf8)
        #expect(variables.contains("FLOTILLA_MISSION=\(audit.id)"))
        #expect(variables.contains("FLOTILLA_GROUP=a"))
        #expect(variables.contains("FLOTILLA_ATTEMPT=2"))
        #expect(variables.contains("FLOTILLA_PROMPT_FILE=\(audit.missionDirectory)/agent_outputs/a-2.prompt.md"))
        #expect(try String(contentsOfFile: stdinFile, encoding: .utf8) == (try audit.prompt("a", 2)))
    }

    @Test func ctrlCStopsTheMissionWithExit4AndLeavesNothingRunning() async throws {
        let fixture = try await MissionFixture(checklist: "# T\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let ready = try FIFOSignal(in: fixture.scratch)
        let agent = try fixture.scratch.write(
            "agent.sh",
            "#!/bin/sh\nsleep 600 &\necho started > \(ready.path)\nwait\n",
            executable: true
        )
        let running = try RunningFlotilla(
            ["run", "--sandbox-write", fixture.scratch.path, "--verify", "./verify.sh", "--agent-command", agent],
            in: fixture.repository.path
        )
        #expect(await ready.firstLine() == "started")
        running.send(SIGINT)
        let outcome = await running.wait(timeout: .seconds(300))
        #expect(!outcome.timedOut)
        #expect(outcome.exitCode == 4, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("stopping"))
        let audit = try await fixture.audit()
        #expect(audit.mission.state == .stopped && audit.mission.stopReason == .stopped)
        #expect(try await audit.attempts().map(\.outcome) == [.interrupted])
        #expect(await MissionProcesses.waitUntilNoneRuns(audit.id) == [])
    }

    @Test func aMissingAgentProgramIsRefusedBeforeAnythingStarts() async throws {
        let fixture = try await MissionFixture(checklist: "# T\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let outcome = try await fixture.run(["--agent-command", "no-such-agent-xyz --yes"])
        #expect(outcome.exitCode == 2)
        #expect(outcome.standardError.contains("--agent-command: cannot find `no-such-agent-xyz` in PATH"))
        #expect(!fixture.repository.directory.exists(".flotilla"))
    }
}
