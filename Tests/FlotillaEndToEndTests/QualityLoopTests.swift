import FlotillaCore
import FlotillaStore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

/// The quality loops on top of the gate, end to end with a scripted model.
///
/// The objective check before done, best of N and fixups. A model only ever adds work or ranks what the gate passed;
/// the gate alone decides what may land.
@Suite("Quality loops, end to end", .tags(.large), .timeLimit(.minutes(10)))
struct QualityLoopTests {
    /// Every group's agent writes its own file: `g.txt` saying `g ok`, which is what the fixture's gate checks.
    func mission(
        _ arguments: [String],
        checklist: String = "# A and B\n\n## A\n- [ ] a.txt says a ok\n",
        agent script: String = "echo \"$FLOTILLA_GROUP ok\" > \"$FLOTILLA_GROUP.txt\"\n",
        _ body: (MissionFixture, FlotillaBinary.Outcome) async throws -> Void
    ) async throws {
        let fixture = try await MissionFixture(checklist: checklist, groups: ["a"])
        defer { fixture.remove() }
        let agent = try fixture.scratch.write("agent.sh", script)
        let outcome = try await fixture.run(
            ["--agent-command", "sh \(agent)", "--goal", "a.txt and b.txt both say ok"] + arguments,
            environment: ["XDG_CONFIG_HOME": try CriticTests.pricedConfig(fixture.scratch)]
        )
        try await body(fixture, outcome)
    }

    static let proposesB = #"""
        {"met": false, "summary": "Nothing writes b.txt.",
         "groups": [{"title": "B", "criteria": ["b.txt says b ok"], "files": ["b.txt"]}]}
        """#

    @Test func anObjectiveCheckAddsAMissingGroupThatThenLands() async throws {
        let met = #"{"met": true, "summary": "Both files say ok.", "groups": []}"#
        try await ScriptedModelServer.serving([.chat(Self.proposesB), .chat(met)]) { server, port in
            try await mission(["--critic-url", "http://127.0.0.1:\(port)/v1", "--objective-check"]) {
                fixture,
                outcome in
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                let audit = try await fixture.audit()
                let groups = try await audit.groups()
                #expect(groups.map(\.id) == ["a", "b"])
                #expect(groups.map(\.status) == [.done, .done])
                #expect(groups.map(\.addedBy) == [nil, "objective check"])
                #expect(groups.last?.criteria == ["b.txt says b ok"])
                #expect(try await audit.attempts().map(\.key.description) == ["a#1", "b#1"])
                let head = try #require(await audit.targetHead())
                #expect(await fixture.repository.show(head, "b.txt") == "b ok")
                // The check read the goal and the landed diff; the second one saw the added group.
                let questions = await server.requests
                #expect(questions.count == 2)
                #expect(questions.first?.contains("a.txt and b.txt both say ok") == true)
                #expect(questions.first?.contains("+a ok") == true, "\(questions.first?.prefix(3000) ?? "")")
                #expect(questions.last?.contains("## B (b)") == true)
                // Each check is a priced call with no attempt, and an event; the addition is an event too.
                let calls = try await audit.ledger.modelCalls(of: audit.id)
                #expect(
                    calls.map(\.call.role) == [.objective, .objective] && calls.allSatisfy { $0.call.attempt == nil }
                )
                #expect(calls.allSatisfy { abs($0.call.usage.costUSD - CriticTests.scriptedCallUSD) < 1e-9 })
                let events = try await audit.events()
                let checks = events.filter { $0.kind == .objectiveChecked }
                #expect(checks.map { $0.payload(MissionEvent.ObjectiveChecked.self)?.met } == [false, true])
                let added = try #require(events.first { $0.kind == .groupsAdded })
                #expect(
                    added.payload(MissionEvent.GroupsAdded.self)?.groups == ["b"] && added.message.contains("b (B)")
                )
                // The mission's own verify judged the added group, like any other, and the final verify passed.
                let verifications = try await audit.verifications().map(\.verification)
                let gateOfB = try #require(verifications.first { $0.kind == .gate && $0.attempt?.group == "b" })
                #expect(gateOfB.groups == ["b"] && gateOfB.passed)
                #expect(verifications.filter { $0.kind == .final }.map(\.passed) == [true])
                // Shown: `status` marks the added group, and its JSON says who added it.
                let status = try await FlotillaBinary.run(["status", audit.id.rawValue], in: fixture.repository.path)
                #expect(status.standardOutput.contains("(added by the objective check)"), "\(status.standardOutput)")
                let json = try await FlotillaBinary.run(
                    ["status", audit.id.rawValue, "--output", "json"],
                    in: fixture.repository.path
                )
                #expect(json.standardOutput.contains("\"added_by\" : \"objective check\""), "\(json.standardOutput)")
                // Resuming reads the grown checklist back from the ledger.
                let record = try #require(try await audit.ledger.mission(audit.id))
                #expect(record.spec.checklist.groupIDs == ["a", "b"])
            }
        }
    }

    @Test func theObjectiveCheckAddsNoMoreThanItsLimitAndIsNotAskedPastIt() async throws {
        let proposesTwo = #"""
            {"met": false, "summary": "b.txt and c.txt are missing.",
             "groups": [{"title": "B", "criteria": ["b.txt says b ok"], "files": []},
                        {"title": "C", "criteria": ["c.txt says c ok"], "files": []},
                        {"title": "", "criteria": [], "files": []}]}
            """#
        try await ScriptedModelServer.serving([.chat(proposesTwo)]) { server, port in
            try await mission(
                ["--critic-url", "http://127.0.0.1:\(port)/v1", "--objective-check", "--objective-max-groups", "1"]
            ) { fixture, outcome in
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                let audit = try await fixture.audit()
                #expect(try await audit.groups().map(\.id) == ["a", "b"])
                #expect(await server.requests.count == 1, "the limit was reached: no second check")
                let check = try #require(try await audit.events().first { $0.kind == .objectiveChecked })
                #expect(check.payload(MissionEvent.ObjectiveChecked.self)?.leftOut == 1)
                #expect(check.message.contains("1 more left out by the limit"), "\(check.message)")
            }
        }
    }

    @Test func anObjectiveCheckThatErrsGoesOnToTheFinalVerify() async throws {
        try await ScriptedModelServer.serving([.chat("no json here")]) { _, port in
            try await mission(["--critic-url", "http://127.0.0.1:\(port)/v1", "--objective-check"]) {
                fixture,
                outcome in
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                let audit = try await fixture.audit()
                #expect(try await audit.groups().map(\.id) == ["a"])
                let check = try #require(try await audit.events().first { $0.kind == .objectiveChecked })
                #expect(check.message.contains("no usable answer"), "\(check.message)")
            }
        }
    }

    /// All three pass: attempt 1 with a 20-line file beside, attempt 2 with a 5-line one, attempt 3 alone.
    static let unevenCandidates = """
        echo 'a ok' > a.txt
        case "$FLOTILLA_ATTEMPT" in
        1) seq 20 > pad.txt ;;
        2) seq 5 > pad.txt ;;
        esac

        """

    @Test func bestOfThreeLandsTheBestRankedPassingCandidateAndRecordsTheOthers() async throws {
        let checklist = "# A\n\n## A\nSpeculate: 3\n- [ ] a.txt says a ok\n"
        try await mission(["--agents", "3"], checklist: checklist, agent: Self.unevenCandidates) { fixture, outcome in
            #expect(outcome.exitCode == 0, "\(outcome.standardError)")
            let audit = try await fixture.audit()
            let attempts = try await audit.attempts()
            #expect(attempts.map(\.key.description) == ["a#1", "a#2", "a#3"])
            #expect(attempts.map(\.outcome) == [.rejected, .rejected, .landed])
            #expect(Set(attempts.map(\.slot)) == [1, 2, 3], "the three ran at once, each in its own slot")
            #expect(attempts[0].reason == "outranked by a#3: a larger diff (21 lines against 1)", "\(attempts[0])")
            #expect(attempts[1].reason == "outranked by a#3: a larger diff (6 lines against 1)", "\(attempts[1])")
            // Each passed its gate: the ranking chose among verified work only.
            let gates = try await audit.verifications().map(\.verification).filter { $0.kind == .gate }
            #expect(gates.count == 3 && gates.allSatisfy(\.passed))
            let head = try #require(await audit.targetHead())
            #expect(await fixture.repository.show(head, "pad.txt") == nil, "the loser's file did not land")
            // Each candidate was told its approach, under its criteria (not at the end, where a small model took it
            // for the whole request and answered "Understood."), and they differ.
            let prompts = try (1...3).map { try audit.prompt("a", $0) }
            let hints = prompts.map { prompt in
                prompt.components(separatedBy: "with this approach: ").last?.components(separatedBy: "\n").first ?? ""
            }
            #expect(Set(hints).count == 3)
            let criteria = try #require(prompts[0].range(of: "- [ ] a.txt says a ok"))
            let hint = try #require(prompts[0].range(of: "Make these criteria true now"))
            let rules = try #require(prompts[0].range(of: "## Already done"))
            #expect(criteria.upperBound < hint.lowerBound && hint.upperBound < rules.lowerBound)
            #expect(try audit.prompt("a", 2).contains("you are candidate 2 of 3"))
            let ranked = try #require(try await audit.events().first { $0.kind == .speculationRanked })
            #expect(ranked.message == "best of 3 for a: a#3 lands")
            let candidates = try #require(ranked.payload(MissionEvent.SpeculationRanked.self)).candidates
            #expect(candidates.map(\.attempt) == [3, 2, 1])
            #expect(candidates.map(\.diffLines) == [1, 6, 21])
            #expect(candidates[0].lostBecause == nil && candidates[1].lostBecause != nil)
        }
    }

    @Test func speculateStartsAfterTwoFailuresAndAFailedCandidateIsNeverRanked() async throws {
        let script = """
            case "$FLOTILLA_ATTEMPT" in
            1|2|3) echo wrong > a.txt ;;
            4) echo 'a ok' > a.txt; seq 5 > pad.txt ;;
            *) echo 'a ok' > a.txt ;;
            esac

            """
        try await mission(["--agents", "3", "--speculate", "3", "--stall-threshold", "3"], agent: script) {
            fixture,
            outcome in
            #expect(outcome.exitCode == 0, "\(outcome.standardError)")
            let audit = try await fixture.audit()
            let attempts = try await audit.attempts()
            #expect(attempts.map(\.outcome) == [.gateFailed, .gateFailed, .gateFailed, .rejected, .landed])
            #expect(try audit.prompt("a", 1).contains("Best of") == false)
            #expect(try audit.prompt("a", 3).contains("you are candidate 1 of 3"))
            let ranked = try #require(try await audit.events().first { $0.kind == .speculationRanked })
            #expect(ranked.message == "best of 3 for a: a#5 lands")
            let candidates = try #require(ranked.payload(MissionEvent.SpeculationRanked.self)).candidates
            // The failed one comes last, with its gate's verdict as the reason, and is not in the ranking.
            #expect(candidates.map(\.attempt) == [5, 4, 3])
            #expect(!candidates[2].passed)
            #expect(candidates[2].lostBecause?.hasPrefix("gate_failed") == true)
            // The round's failure did not count towards the stall rule beside the winner: the group never blocked.
            #expect(try await audit.groups().first?.status == .done)
        }
    }

    /// Two groups that each pass alone and break merged.
    ///
    /// Group a renames `greet` to `hello`; group b adds a script that calls `greet`. With one agent, b starts while a
    /// waits to land, so b is merged second, onto a's landing.
    static let renameAndUse = (
        verify: """
        #!/bin/sh
        for g in $(echo "${FLOTILLA_GROUPS:-a b}" | tr ',' ' '); do
            case $g in
            a) grep -q '^hello()' lib.sh || { echo "FAIL a: lib.sh has no hello()"; exit 1; } ;;
            b) out=$(sh b.sh 2>&1); [ "$out" = hi ] || { echo "FAIL b: b.sh said '$out'"; exit 1; } ;;
            esac
        done

        """,
        checklist: "# Rename\n\n## A\n- [ ] lib.sh calls it hello\n\n## B\n- [ ] b.sh says hi through lib.sh\n",
        agent: """
        case "$FLOTILLA_GROUP" in
        a) sed -i 's/^greet()/hello()/' lib.sh ;;
        b) if [ "$FLOTILLA_ATTEMPT" = 1 ]; then printf '. ./lib.sh\\ngreet\\n' > b.sh
           elif grep -q '^hello()' lib.sh && [ -f b.sh ]; then sed -i 's/^greet$/hello/' b.sh
           fi ;;
        esac

        """
    )

    func integrationMission(
        _ arguments: [String],
        _ body: (MissionAudit, FlotillaBinary.Outcome) async throws -> Void
    )
        async throws
    {
        let fixture = try await MissionFixture(
            checklist: Self.renameAndUse.checklist,
            groups: ["a", "b"],
            extraFiles: ["verify.sh": Self.renameAndUse.verify, "lib.sh": "greet() { echo hi; }\n"]
        )
        defer { fixture.remove() }
        let agent = try fixture.scratch.write("agent.sh", Self.renameAndUse.agent)
        let outcome = try await fixture.run(
            ["--agent-command", "sh \(agent)", "--agents", "1", "--max-attempts", "3"] + arguments
        )
        try await body(try await fixture.audit(), outcome)
    }

    @Test func aFixupStartsFromTheMergeThatFailedIntegrationAndLandsIt() async throws {
        try await integrationMission([]) { audit, outcome in
            #expect(outcome.exitCode == 0, "\(outcome.standardError)")
            let attempts = try await audit.attempts()
            #expect(attempts.map(\.key.description) == ["a#1", "b#1", "b#2"])
            #expect(attempts.map(\.outcome) == [.landed, .regression, .landed])
            // b#1 started before a landed; the fixup started from the merge of the two that failed.
            let base = try #require(attempts.first?.startCommit)
            #expect(attempts[1].startCommit == base)
            let failedMerge = try #require(
                try await audit.verifications().map(\.verification).first { $0.kind == .regression && !$0.passed }
            )
            #expect(attempts[2].startCommit == failedMerge.commit)
            #expect(
                attempts[1].reason?.hasSuffix("the next attempt is a fixup from \(failedMerge.commit.shortSHA)") == true
            )
            // Its prompt had both changes and the failure.
            let prompt = try audit.prompt("b", 2)
            #expect(prompt.contains("Fixup: your change passed its own gate"), "\(prompt)")
            #expect(prompt.contains("+greet"), "b's own change")
            #expect(prompt.contains("-greet() { echo hi; }") && prompt.contains("+hello() { echo hi; }"), "a's change")
            #expect(prompt.contains("FAIL b: b.sh said"), "the failure")
            let head = try #require(await audit.targetHead())
            #expect(await audit.repository.show(head, "b.sh") == ". ./lib.sh\nhello")
        }
    }

    @Test func withoutFixupsTheGroupStartsAgainFromTheHead() async throws {
        try await integrationMission(["--no-fixups"]) { audit, outcome in
            // The agent's second attempt only fixes a checkout that has b.sh: from the head it writes nothing.
            #expect(outcome.exitCode != 0)
            let attempts = try await audit.attempts()
            #expect(attempts.prefix(3).map(\.outcome) == [.landed, .regression, .gateFailed])
            let head = try #require(await audit.targetHead())
            #expect(attempts[2].startCommit == head)
            #expect(try audit.prompt("b", 2).contains("Fixup:") == false)
        }
    }

    @Test func withApproveFinalTheProposedGroupsWaitForAHumanWhoseApprovalAddsThem() async throws {
        let met = #"{"met": true, "summary": "Both files say ok.", "groups": []}"#
        try await ScriptedModelServer.serving([.chat(Self.proposesB), .chat(met)]) { _, modelPort in
            let fixture = try await MissionFixture(
                checklist: "# A and B\n\n## A\n- [ ] a.txt says a ok\n",
                groups: ["a"]
            )
            defer { fixture.remove() }
            let agent = try fixture.scratch.write("agent.sh", "echo \"$FLOTILLA_GROUP ok\" > \"$FLOTILLA_GROUP.txt\"\n")
            try await NotificationReceiver.serving { receiver, port in
                let environment = try NotificationTests.configure(
                    fixture,
                    NotificationTests.webhook(port: port, events: #"["needs_human"]"#)
                )
                let run = Task {
                    try await fixture.run(
                        [
                            "--agent-command", "sh \(agent)", "--objective-check", "--approve", "final",
                            "--critic-url", "http://127.0.0.1:\(modelPort)/v1",
                        ],
                        environment: environment
                    )
                }
                defer { run.cancel() }
                #expect(await receiver.waitForRequests(1), "the proposal was not put to a human")
                let id = try await ApprovalTests.missionID(receiver, request: 0)
                let audit = try await MissionAudit(fixture.repository)
                // It waits: the proposal is shown, nothing is added yet.
                #expect(try await audit.groups().map(\.id) == ["a"])
                let asked = try #require(try await audit.events().last { $0.kind == .approvalRequested })
                #expect(asked.message.hasPrefix("the objective check's proposal to add b (B) waits for a human"))
                let check = try #require(try await audit.events().first { $0.kind == .objectiveChecked })
                #expect(check.payload(MissionEvent.ObjectiveChecked.self)?.putToHuman == true)
                try await ApprovalTests.flotilla(["approve", id, "--detach"], in: fixture)
                // Approved: b is added and lands; the check is then satisfied and the finished mission waits.
                #expect(await receiver.waitForRequests(2), "the finished mission did not wait for its approval")
                let groups = try await audit.groups()
                #expect(groups.map(\.id) == ["a", "b"] && groups.allSatisfy { $0.status == .done })
                try await ApprovalTests.flotilla(["approve", id, "--detach"], in: fixture)
                let outcome = try await run.value
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                #expect(try await audit.ledger.approvals(of: audit.id).map { $0.decision?.approved } == [true, true])
            }
        }
    }

    @Test func aRoundCutShortByACrashLandsItsPassingCandidateOnceAndEndsTheOthers() async throws {
        let fixture = try await MissionFixture(
            checklist: "# A\n\n## A\nSpeculate: 2\n- [ ] a.txt says a ok\n",
            groups: ["a"]
        )
        defer { fixture.remove() }
        // Candidate 1 passes at once; candidate 2 is still working when Flotilla is killed after 1's gate.
        let agent = try fixture.scratch.write(
            "agent.sh",
            "echo 'a ok' > a.txt\nif [ \"$FLOTILLA_ATTEMPT\" = 2 ]; then sleep 600; fi\n"
        )
        let resumed = try await fixture.crashThenResume(
            ["--agent-command", "sh \(agent)", "--agents", "2"],
            at: "gate.recorded#1"
        )
        #expect(resumed.exitCode == 0, "\(resumed.standardOutput)\(resumed.standardError)")
        let audit = try await fixture.audit()
        let attempts = try await audit.attempts()
        #expect(attempts.map(\.key.description) == ["a#1", "a#2"], "no new round started beside the queued candidate")
        #expect(attempts.map(\.outcome) == [.landed, .interrupted])
        #expect(await MissionProcesses.waitUntilNoneRuns(audit.id) == [], "the cut-short candidate's agent outlived it")
    }

    @Test func aRoundCutShortWithTwoPassingCandidatesQueuedLandsTheBetterRankedOne() async throws {
        let fixture = try await MissionFixture(
            checklist: "# A\n\n## A\nSpeculate: 3\n- [ ] a.txt says a ok\n",
            groups: ["a"]
        )
        defer { fixture.remove() }
        // Candidates 1 (a larger diff) and 2 pass; 3 is still working when Flotilla is killed after the second gate.
        let agent = try fixture.scratch.write(
            "agent.sh",
            "echo 'a ok' > a.txt\ncase \"$FLOTILLA_ATTEMPT\" in\n1) seq 20 > pad.txt ;;\n3) sleep 600 ;;\nesac\n"
        )
        let resumed = try await fixture.crashThenResume(
            ["--agent-command", "sh \(agent)", "--agents", "3"],
            at: "gate.recorded#2"
        )
        #expect(resumed.exitCode == 0, "\(resumed.standardOutput)\(resumed.standardError)")
        let audit = try await fixture.audit()
        let attempts = try await audit.attempts()
        #expect(attempts.map(\.key.description) == ["a#1", "a#2", "a#3"], "no new round started")
        // Ranked as the round would have ranked them, not the first queued one landing.
        #expect(attempts.map(\.outcome) == [.rejected, .landed, .interrupted], "\(attempts)")
        #expect(attempts[0].reason == "outranked by a#2: a larger diff (21 lines against 1)", "\(attempts[0])")
        let ranked = try #require(try await audit.events().first { $0.kind == .speculationRanked })
        #expect(ranked.message == "best of 2 for a: a#2 lands", "\(ranked.message)")
        let head = try #require(await audit.targetHead())
        #expect(await fixture.repository.show(head, "pad.txt") == nil, "the outranked candidate's file did not land")
        #expect(await MissionProcesses.waitUntilNoneRuns(audit.id) == [], "the cut-short candidate's agent outlived it")
    }

    @Test func withoutACriticTheObjectiveCheckIsRefusedBeforeAnythingIsCreated() async throws {
        try await mission(["--objective-check"]) { fixture, outcome in
            #expect(outcome.exitCode != 0)
            #expect(outcome.standardError.contains("--objective-check needs a model"), "\(outcome.standardError)")
            #expect(!FileManager.default.fileExists(atPath: fixture.repository.path + "/.flotilla/missions"))
        }
    }
}
