import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaGit
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

/// The loop's decisions — approvals, best-of-N rounds, fixups, pushes, rate limits — with attempts answered by a
/// script (``ScriptedAttemptExecutor``), an in-memory git, a scripted verify and a manual clock: no agent, no gate, no
/// process, and time moves only when the test says so.
@Suite("The loop's decisions on a scripted executor", .tags(.small), .timeLimit(.minutes(5)))
struct ScriptedLoopTests {
    typealias Mission = LoopDecisionTests.Mission

    static func isEvent(_ kind: EventKind, _ group: String, _ number: Int) -> @Sendable (MissionEvent) -> Bool {
        { $0.kind == kind && $0.group == group && $0.attempt == number }
    }

    /// Every attempt of `a` passes its gate with `a.txt` as the verify wants it.
    static func passingA(_ mission: Mission) -> ScriptedAttemptExecutor {
        let base = mission.spec.baseCommit
        return ScriptedAttemptExecutor { plan, update in
            ScriptedAttemptExecutor.passed(plan, commit: (try? mission.passing("a", on: base)) ?? base, update: update)
        }
    }

    /// A person approves attempt `number` of `a`'s landing, as any process would: a row in the ledger.
    static func approve(_ number: Int, of mission: Mission, by: String) async throws {
        try await mission.ledger.record(
            .approvalDecided(AttemptKey(group: "a", number: number), ApprovalDecision(approved: true, by: by)),
            mission: mission.spec.id,
            at: Date()
        )
    }

    // MARK: - Approvals

    @Test func aCandidateWaitsForAHumanAndLandsOnceApproved() async throws {
        let mission = try await Mission("# G\n## A\n- [ ] a\n") { $0.approve = .landings }
        defer { mission.directory.remove() }
        let executor = Self.passingA(mission)
        let clock = ManualClock()
        let events = EventWaiter()
        async let result = mission.run(executor, clock: clock, sink: events)

        #expect(await events.first(Self.isEvent(.approvalRequested, "a", 1)) != nil)
        // The desk looks at the ledger every 250 ms: nothing lands before a decision is there.
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(250))
        await clock.waitForSleepers(1)
        #expect(try await mission.outcomes("a") == [nil])
        #expect(!events.events.contains { $0.kind == .mergeStarted })

        // A person approves (from any process: the decision is a ledger row); the next look lands it.
        try await Self.approve(1, of: mission, by: "cli")
        clock.advance(by: .milliseconds(250))
        #expect(try await result.reason == .completed)
        #expect(try await mission.outcomes("a") == [.landed])
        #expect(try await mission.targetIsVerified())
    }

    @Test func theApprovalTimeoutRejectsAndTheNextAttemptIsToldWhy() async throws {
        let mission = try await Mission("# G\n## A\n- [ ] a\n") {
            $0.approve = .landings
            $0.approvalTimeoutSeconds = 60
        }
        defer { mission.directory.remove() }
        let executor = Self.passingA(mission)
        let clock = ManualClock()
        let events = EventWaiter()
        async let result = mission.run(executor, clock: clock, sink: events)

        #expect(await events.first(Self.isEvent(.approvalRequested, "a", 1)) != nil)
        await clock.waitForSleepers(1)
        // No decision within the minute: the timeout's action (reject, by default) is recorded and applied.
        clock.advance(by: .seconds(61))
        let decided = await events.first(Self.isEvent(.approvalDecided, "a", 1))?
            .payload(MissionEvent.ApprovalDecided.self)
        #expect(decided?.by == "timeout" && decided?.approved == false)

        // The second attempt hears why; a person approves it.
        #expect(await events.first(Self.isEvent(.approvalRequested, "a", 2)) != nil)
        #expect(executor.plans.last?.prompt.contains("no answer came in time") == true)
        try await Self.approve(2, of: mission, by: "api")
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(250))
        #expect(try await result.reason == .completed)
        #expect(try await mission.outcomes("a") == [.rejected, .landed])
    }

    // MARK: - Best of N

    @Test func aRoundWaitsForAllItsCandidatesThenTheBestLandsAndTheOthersSayWhyTheyLost() async throws {
        let mission = try await Mission("# G\n## A\nSpeculate: 3\n- [ ] a\n", agents: 3)
        defer { mission.directory.remove() }
        let base = mission.spec.baseCommit
        let third = CompletionSignal()
        let executor = ScriptedAttemptExecutor { plan, update in
            // The best candidate finishes first; the others only after its result is in.
            if plan.key.number != 3 { await third.wait() }
            switch plan.key.number {
            case 1:
                return ScriptedAttemptExecutor.gateFailed(
                    plan,
                    criteria: CriteriaScore(passed: 1, total: 3),
                    update: update
                )
            case 2:
                let commit = (try? mission.passing("a", on: base, also: ["two": "2\n"])) ?? base
                return ScriptedAttemptExecutor.passed(
                    plan,
                    commit: commit,
                    criteria: CriteriaScore(passed: 2, total: 3),
                    update: update
                )
            default:
                let commit = (try? mission.passing("a", on: base, also: ["three": "3\n"])) ?? base
                defer { third.signal() }
                return ScriptedAttemptExecutor.passed(
                    plan,
                    commit: commit,
                    criteria: CriteriaScore(passed: 3, total: 3),
                    update: update
                )
            }
        }
        let result = try await mission.run(executor)
        #expect(result.reason == .completed)
        #expect(executor.plans.map(\.key.number).sorted() == [1, 2, 3])
        #expect(Set(executor.plans.map(\.startCommit)) == [base])
        #expect(try await mission.outcomes("a") == [.gateFailed, .rejected, .landed])

        let events = try await mission.ledger.events(of: mission.spec.id, after: 0, limit: 1000)
        let ranked = try #require(events.firstIndex { $0.kind == .speculationRanked })
        let lastGate = try #require(events.lastIndex { $0.kind == .gatePassed || $0.kind == .gateFailed })
        let merge = try #require(events.firstIndex { $0.kind == .mergeStarted })
        #expect(lastGate < ranked && ranked < merge)
        let candidates = try #require(events[ranked].payload(MissionEvent.SpeculationRanked.self)).candidates
        #expect(candidates.map(\.attempt) == [3, 2, 1])
        #expect(candidates[1].lostBecause?.contains("fewer criteria passed (2 against 3)") == true)
        let head = try #require(try await mission.git.resolveCommit("refs/heads/\(mission.spec.targetBranch)"))
        #expect(try await mission.git.fileContents(at: head, path: "three") == "3\n")
    }

    // MARK: - Fixups

    @Test func aRegressionFromWorkLandedMeanwhileIsFixedOnceFromTheMergeThenFromTheHead() async throws {
        let mission = try await Mission("# G\n## A\n- [ ] a\n## B\n- [ ] b\n")
        defer { mission.directory.remove() }
        // b breaks once a has landed, unless its change also brings `fixed`.
        let verify = ScriptedProcessRunner { request in
            ScriptedProcessRunner.verdict(request, all: ["a", "b"]) { checkout, group in
                let said = try? String(contentsOfFile: checkout + "/\(group).txt", encoding: .utf8)
                let manager = FileManager.default
                let broken =
                    group == "b" && manager.fileExists(atPath: checkout + "/a.txt")
                    && !manager.fileExists(atPath: checkout + "/fixed")
                return said == "\(group) ok\n" && !broken
            }
        }
        let base = mission.spec.baseCommit
        let events = EventWaiter()
        let executor = ScriptedAttemptExecutor { plan, update in
            switch (plan.key.group, plan.key.number) {
            case ("a", _):
                let commit = (try? mission.passing("a", on: plan.startCommit)) ?? base
                return ScriptedAttemptExecutor.passed(plan, commit: commit, update: update)
            case ("b", 1):
                // Started beside a; passes alone, and is judged once a has landed.
                _ = await events.first { $0.kind == .attemptLanded && $0.group == "a" }
                let commit = (try? mission.passing("b", on: plan.startCommit)) ?? base
                return ScriptedAttemptExecutor.passed(plan, commit: commit, update: update)
            case ("b", 2):
                // The fixup changes nothing: the merge fails the same way.
                return ScriptedAttemptExecutor.passed(plan, commit: plan.startCommit, update: update)
            default:
                let commit = (try? mission.passing("b", on: plan.startCommit, also: ["fixed": "yes\n"])) ?? base
                return ScriptedAttemptExecutor.passed(plan, commit: commit, update: update)
            }
        }
        let result = try await mission.run(executor, verify: verify, sink: events)
        #expect(result.reason == .completed)
        #expect(try await mission.outcomes("b") == [.regression, .regression, .landed])

        let attempts = try await mission.ledger.attempts(of: mission.spec.id)
        let landedA = try #require(attempts.first { $0.key.group == "a" && $0.outcome == .landed }?.landedCommit)
        let failedMerge = try #require(
            try await mission.ledger.verifications(of: mission.spec.id).first {
                $0.verification.kind == .regression && !$0.verification.passed
            }?.verification.commit
        )
        let starts = executor.plans.filter { $0.key.group == "b" }.map(\.startCommit)
        // The fixup starts from the merge that failed; after it failed the same way, the next starts from the head.
        #expect(starts == [base, failedMerge, landedA])
        let fixup = try #require(executor.plans.first { $0.key == AttemptKey(group: "b", number: 2) })
        #expect(fixup.prompt.contains("Fixup:"))
        #expect(try await mission.targetIsVerified())
    }

    // MARK: - Pushes

    @Test func landingsWhileAPushIsUnderWayArePushedTogetherWithTheLease() async throws {
        let mission = try await Mission("# G\n## A\n- [ ] a\n## B\n- [ ] b\n## C\n- [ ] c\n", agents: 3) {
            $0.push = "origin"
        }
        defer { mission.directory.remove() }
        let release = CompletionSignal()
        mission.git.holdPushes { await release.wait() }
        let events = EventWaiter()
        let executor = ScriptedAttemptExecutor { plan, update in
            // Each group writes its own file: none conflicts with another.
            let commit = (try? mission.passing(plan.key.group, on: plan.startCommit)) ?? plan.startCommit
            return ScriptedAttemptExecutor.passed(plan, commit: commit, update: update)
        }
        async let result = mission.run(executor, sink: events)
        for group in ["a", "b", "c"] {
            #expect(await events.first { $0.kind == .attemptLanded && $0.group == group } != nil)
        }
        // The first push is still held: every landing since waits for it, and then goes in one push.
        release.signal()
        #expect(try await result.reason == .completed)

        let landings = events.events.compactMap { $0.payload(MissionEvent.AttemptLanded.self)?.landedCommit }
        let pushes = events.events.compactMap { $0.payload(MissionEvent.Pushed.self) }
        #expect(pushes.map(\.commit) == [landings.first, landings.last].compactMap { $0 })
        #expect(pushes.allSatisfy { $0.refusal == nil } && pushes.last?.expected == landings.first)
        let head = try await mission.git.resolveCommit("refs/heads/\(mission.spec.targetBranch)")
        #expect(mission.git.remoteBranch("origin", mission.spec.targetBranch) == head)
    }

    // MARK: - Rate limits

    @Test func aRateLimitHoldsEveryDispatchForItsWaitAndRepeatsDoubleIt() async throws {
        let mission = try await Mission("# G\n## A\n- [ ] a\n", agents: 1)
        defer { mission.directory.remove() }
        let base = mission.spec.baseCommit
        let executor = ScriptedAttemptExecutor { plan, update in
            switch plan.key.number {
            case 1: return ScriptedAttemptExecutor.rateLimited(plan, message: "quota exceeded", update: update)
            case 2: return ScriptedAttemptExecutor.rateLimited(plan, message: "quota exceeded", update: update)
            default:
                let commit = (try? mission.passing("a", on: base)) ?? base
                return ScriptedAttemptExecutor.passed(plan, commit: commit, update: update)
            }
        }
        let clock = ManualClock()
        let events = EventWaiter()
        async let result = mission.run(executor, clock: clock, sink: events)

        // The first limit: 30 s (the base) before anything starts again.
        #expect(await events.first(Self.isEvent(.attemptFailed, "a", 1)) != nil)
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(29))
        #expect(executor.plans.count == 1)
        clock.advance(by: .seconds(1))
        // The second in a row: twice as long.
        #expect(await events.first(Self.isEvent(.attemptFailed, "a", 2)) != nil)
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(59))
        #expect(executor.plans.count == 2)
        clock.advance(by: .seconds(1))
        #expect(try await result.reason == .completed)
        #expect(try await mission.outcomes("a") == [.agentFailed, .agentFailed, .landed])
        // A limit is the account's, not the group's: no stall.
        let group = try #require(try await mission.ledger.groups(of: mission.spec.id).first)
        #expect(group.stalledAttempts == 0 && group.escalation == .none)
    }

    @Test func aFallbackThatTakesOverStartsTheNextAttemptWithoutWaiting() async throws {
        let mission = try await Mission("# G\n## A\n- [ ] a\n", agents: 1)
        defer { mission.directory.remove() }
        let base = mission.spec.baseCommit
        let executor = ScriptedAttemptExecutor { plan, update in
            guard plan.key.number > 1 else {
                return ScriptedAttemptExecutor.rateLimited(
                    plan,
                    message: "quota exceeded",
                    holdDispatch: false,
                    update: update
                )
            }
            return ScriptedAttemptExecutor.passed(
                plan,
                commit: (try? mission.passing("a", on: base)) ?? base,
                update: update
            )
        }
        // The clock never moves: the mission can only complete if nothing waits on it.
        let result = try await mission.run(executor)
        #expect(result.reason == .completed)
        #expect(try await mission.outcomes("a") == [.agentFailed, .landed])
    }

    // MARK: - The port

    @Test func plansUpdatesAndResultsCrossAProcessBoundaryAsJSON() throws {
        let key = AttemptKey(group: "api", number: 2)
        let plan = AttemptPlan(
            mission: try #require(MissionID("m-0000abcd")),
            key: key,
            slot: 3,
            startCommit: String(repeating: "a", count: 40),
            prompt: "Make it so.",
            budgetUSD: 1.5
        )
        let updates: [AttemptUpdate] = [
            .modelCalled(
                ModelCall(
                    role: .architect,
                    attempt: key,
                    model: "m",
                    usage: Usage(costUSD: 0.01),
                    duration: .seconds(2)
                )
            ),
            .agentFinished(
                AgentReport(exitCode: 0, duration: .seconds(3), usage: Usage(inputTokens: 10, costUSD: 0.2))
            ),
            .testEditsReverted(["tests/test_api.py"]),
            .committed(
                commit: String(repeating: "b", count: 40),
                diff: DiffStat(files: 1, insertions: 3, deletions: 1)
            ),
            .reviewed(ReviewVerdict(score: 8, threshold: 7, blocks: false, summary: "fine", concerns: [])),
        ]
        let results = [
            AttemptResult(
                .passed,
                evidence: AttemptEvidence(commit: "c", criteria: CriteriaScore(passed: 2, total: 3))
            ),
            AttemptResult(.failed(outcome: .gateFailed, reason: "exit 1", feedback: "The gate failed.")),
            AttemptResult(.rateLimited(reason: "r", feedback: "f", message: "retry in 5s", holdDispatch: true)),
            AttemptResult(.cancelled),
            AttemptResult(.error("git failed")),
        ]
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        #expect(try decoder.decode(AttemptPlan.self, from: encoder.encode(plan)) == plan)
        #expect(try decoder.decode([AttemptUpdate].self, from: encoder.encode(updates)) == updates)
        #expect(try decoder.decode([AttemptResult].self, from: encoder.encode(results)) == results)
    }
}
