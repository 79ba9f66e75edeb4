import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Frontier, stall rule and dispatch decisions", .tags(.small))
struct SchedulingTests {
    /// a, b independent; c after a; d after b and c; e after d.
    func diamond() -> MissionProgress {
        MissionProgress([
            GroupProgress(id: "a", dependsOn: []),
            GroupProgress(id: "b", dependsOn: []),
            GroupProgress(id: "c", dependsOn: ["a"]),
            GroupProgress(id: "d", dependsOn: ["b", "c"]),
            GroupProgress(id: "e", dependsOn: ["d"]),
        ])
    }

    @Test func frontierFollowsClaimsAndLandings() {
        var progress = diamond()
        #expect(progress.frontier == ["a", "b"])
        progress.claim("a")
        #expect(progress.frontier == ["b"])
        progress.release("a")
        #expect(progress.frontier == ["a", "b"])
        progress.claim("a")
        #expect(progress.markDone("a") == ["c"])
        #expect(progress.frontier == ["b", "c"])
        progress.claim("b")
        progress.markDone("b")
        #expect(progress.frontier == ["c"])
        progress.claim("c")
        #expect(progress.markDone("c") == ["d"])
        #expect(!progress.allDone)
        #expect(progress["c"]?.attempts == 1)
    }

    @Test func blockingPropagatesToEveryDependent() {
        var progress = diamond()
        progress.claim("a")
        progress.markDone("a")
        progress.claim("c")
        #expect(progress.block("c") == ["d", "e"])
        #expect(progress["c"]?.status == .blocked)
        #expect(progress["e"]?.status == .blocked)
        #expect(progress["b"]?.status == .pending)
        #expect(progress.frontier == ["b"])
    }

    @Test func stallRuleEscalatesThenBlocks() {
        let rule = StallRule(threshold: 2)
        var group = GroupProgress(id: "g", dependsOn: [])
        func fail(_ outcome: AttemptOutcome = .gateFailed, criteria: Int? = nil) -> StallAssessment {
            let assessment = rule.assess(group, outcome: outcome, criteria: criteria.map { CriteriaScore(passed: $0) })
            group.stalledAttempts = assessment.stalledAttempts
            group.escalation = assessment.escalation
            group.bestCriteriaPassed = assessment.bestCriteriaPassed
            return assessment
        }
        #expect(fail().stalledAttempts == 1)
        let second = fail()
        #expect(second.escalation == .strategyChange && second.stalledAttempts == 0 && !second.block)
        #expect(!fail().block)
        #expect(fail().block)
    }

    @Test func progressAndRacesDoNotCountAsStalls() {
        let rule = StallRule(threshold: 1)
        let group = GroupProgress(id: "g", dependsOn: [], stalledAttempts: 0, bestCriteriaPassed: 1)
        let progressed = rule.assess(group, outcome: .gateFailed, criteria: CriteriaScore(passed: 2, total: 3))
        #expect(progressed.madeProgress && progressed.stalledAttempts == 0 && progressed.escalation == .none)
        let conflict = rule.assess(group, outcome: .conflict, criteria: nil)
        #expect(conflict.stalledAttempts == 0 && conflict.escalation == .none && !conflict.block)
        let noProgress = rule.assess(group, outcome: .gateFailed, criteria: CriteriaScore(passed: 1, total: 3))
        #expect(noProgress.escalation == .strategyChange)
    }

    func context(
        idle: Int = 2,
        inFlight: Int = 0,
        running: Int = 0,
        spent: Double = 0,
        estimate: Double = 0,
        started: Int = 0,
        elapsed: Duration = .zero,
        limits: MissionLimits = MissionLimits(),
        stop: Bool = false,
        tripped: BreakerTrip? = nil
    ) -> DispatchContext {
        DispatchContext(
            idleSlots: idle,
            inFlight: inFlight,
            runningAttempts: running,
            spentUSD: spent,
            estimatedAttemptUSD: estimate,
            attemptsStarted: started,
            elapsed: elapsed,
            limits: limits,
            stopRequested: stop,
            tripped: tripped
        )
    }

    @Test func dispatchesOneReadyGroupPerIdleSlot() {
        #expect(Dispatcher.next(diamond(), context(idle: 1)).step == .dispatch(["a"]))
        #expect(Dispatcher.next(diamond(), context(idle: 5)).step == .dispatch(["a", "b"]))
        #expect(Dispatcher.next(diamond(), context(idle: 0, inFlight: 2)).step == .wait)
    }

    @Test func groupsExpectedToTouchTheFilesOfRunningOnesWaitWhileOthersCanRun() throws {
        let checklist = try ChecklistParser.parse(
            """
            # F

            ## A
            Files: shared.txt, a.txt
            - [ ] a

            ## B
            Files: `shared.txt`
            - [ ] b

            ## C
            - [ ] c

            ## D
            Files: d.txt
            - [ ] d
            """,
            file: "ACCEPTANCE.md"
        )
        #expect(checklist.groups.map(\.files) == [["shared.txt", "a.txt"], ["shared.txt"], [], ["d.txt"]])
        #expect(ChecklistRenderer.render(checklist).contains("Files: shared.txt, a.txt"))
        // The JSON form (the ledger's, a request's) keeps them too.
        #expect(
            try ChecklistJSON.decode(ChecklistJSON.encode(checklist), file: "ledger").groups.map(\.files)
                == checklist.groups.map(\.files)
        )
        var footprints = Footprints(checklist)
        // a runs: b (shared.txt) waits while c and d can run; with a slot left over and only b ready, b runs.
        #expect(footprints.choose(["b", "c", "d"], running: ["a"], slots: 2) == ["c", "d"])
        #expect(footprints.choose(["b", "c", "d"], running: ["a"], slots: 3) == ["c", "d", "b"])
        #expect(footprints.choose(["a", "b", "c"], running: [], slots: 2) == ["a", "c"])
        // A conflict teaches a footprint: c conflicted on d.txt, so c and d no longer run together.
        footprints.learn("c", touched: ["d.txt"])
        #expect(footprints.choose(["c", "d"], running: [], slots: 1) == ["c"])
        #expect(footprints.choose(["d", "c"], running: ["c"], slots: 1) == ["d"])
        #expect(footprints.choose(["d", "b"], running: ["c"], slots: 1) == ["b"])
        // Through the dispatcher: the frontier is searched past the overlapping group.
        var progress = MissionProgress(checklist.groups.map { GroupProgress(id: $0.id, dependsOn: []) })
        progress.claim("a")
        var context = context(idle: 1, inFlight: 1)
        context.footprints = footprints
        context.runningGroups = ["a"]
        #expect(Dispatcher.next(progress, context).step == .dispatch(["c"]))
        context.footprints = nil
        #expect(Dispatcher.next(progress, context).step == .dispatch(["b"]))
    }

    @Test func finishesBlockedWhenNothingCanRun() {
        var progress = diamond()
        progress.block("a")
        progress.block("b")
        #expect(Dispatcher.next(progress, context()).step == .finish(.blocked))
        #expect(Dispatcher.next(progress, context(inFlight: 1)).step == .wait)
    }

    @Test func verifiesWhenAllLanded() {
        var progress = MissionProgress([GroupProgress(id: "a", dependsOn: [])])
        progress.claim("a")
        progress.markDone("a")
        #expect(Dispatcher.next(progress, context()).step == .finalVerify)
    }

    @Test func maxAttemptsStopsBeforeTheLimitIsPassed() {
        let limits = MissionLimits(maxAttempts: 3)
        #expect(Dispatcher.next(diamond(), context(idle: 2, started: 2, limits: limits)).step == .dispatch(["a"]))
        let (step, trip) = Dispatcher.next(diamond(), context(idle: 2, started: 3, limits: limits))
        #expect(step == .finish(.maxAttempts))
        #expect(trip?.reason == .maxAttempts)
        #expect(Dispatcher.next(diamond(), context(inFlight: 1, started: 3, limits: limits)).step == .wait)
    }

    @Test func costIsProjectedWithRunningAttemptsAndTheNextOne() {
        let limits = MissionLimits(maxCostUSD: 1.0)
        // $0.50 spent, one running, each ≈ $0.30: one more would project $1.10.
        let (step, trip) = Dispatcher.next(
            diamond(),
            context(inFlight: 1, running: 1, spent: 0.5, estimate: 0.3, limits: limits)
        )
        #expect(step == .wait)
        #expect(trip?.reason == .maxCost)
        #expect(trip?.detail.contains("projected $1.10") == true)
        #expect(Dispatcher.next(diamond(), context(spent: 0.5, estimate: 0.3, limits: limits)).step == .dispatch(["a"]))
        #expect(Dispatcher.next(diamond(), context(spent: 1.0, limits: limits)).step == .finish(.maxCost))
    }

    @Test func trippedBreakerLetsRunningWorkFinishThenStops() {
        let trip = BreakerTrip(reason: .maxCost, detail: "x")
        #expect(Dispatcher.next(diamond(), context(inFlight: 1, tripped: trip)).step == .wait)
        #expect(Dispatcher.next(diamond(), context(tripped: trip)).step == .finish(.maxCost))
    }

    @Test func stopAndWallClockEndAtOnce() {
        #expect(Dispatcher.next(diamond(), context(inFlight: 2, stop: true)).step == .finish(.stopped))
        let limits = MissionLimits(maxWallClock: .seconds(10))
        #expect(
            Dispatcher.next(diamond(), context(inFlight: 1, elapsed: .seconds(11), limits: limits)).step
                == .finish(.maxWallClock)
        )
    }

    @Test func exitCodesFollowTheProductContract() {
        #expect(StopReason.completed.exitCode == 0)
        #expect(StopReason.failed.exitCode == 1)
        #expect(StopReason.blocked.exitCode == 3)
        #expect(StopReason.stopped.exitCode == 4)
        for breaker in [StopReason.maxCost, .maxWallClock, .maxAttempts] { #expect(breaker.exitCode == 5) }
    }

    @Test func costEstimateMovesWithRecentAttempts() {
        var estimator = CostEstimator()
        #expect(estimator.estimateUSD == 0)
        estimator.record(costUSD: 0.4)
        #expect(estimator.estimateUSD == 0.4)
        estimator.record(costUSD: 0.2)
        #expect(abs(estimator.estimateUSD - 0.3) < 1e-9)
    }

    @Test(arguments: [1, 7, 42, 1234])
    func theFrontiersFirstGroupsAreAlwaysItsPrefix(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var groups: [GroupProgress] = []
        for index in 0..<60 {
            let dependencies =
                index < 10
                ? []
                : (0..<Int.random(in: 0...2, using: &random)).map { _ in "g\(Int.random(in: 0..<index, using: &random))"
                }
            groups.append(GroupProgress(id: "g\(index)", dependsOn: Array(Set(dependencies)).sorted()))
        }
        var progress = MissionProgress(groups)
        var active: [String] = []
        for _ in 0..<400 {
            for limit in [1, 3, 100] {
                #expect(progress.frontier(limit: limit) == Array(progress.frontier.prefix(limit)))
            }
            switch Int.random(in: 0..<10, using: &random) {
            case 0...4:
                if let group = progress.frontier(limit: 3).randomElement(using: &random) {
                    progress.claim(group)
                    active.append(group)
                }
            case 5...6:
                if let group = active.randomElement(using: &random) {
                    active.removeAll { $0 == group }
                    progress.markDone(group)
                }
            case 7...8:
                if let group = active.randomElement(using: &random) {
                    active.removeAll { $0 == group }
                    progress.release(group)
                }
            default:
                if let group = active.randomElement(using: &random) {
                    active.removeAll { $0 == group }
                    progress.block(group)
                }
            }
        }
    }

    @Test func frontierOfAThousandGroupChainStaysLinear() {
        var groups: [GroupProgress] = [GroupProgress(id: "g0", dependsOn: [])]
        for index in 1..<1000 { groups.append(GroupProgress(id: "g\(index)", dependsOn: ["g\(index - 1)"])) }
        var progress = MissionProgress(groups)
        for index in 0..<1000 {
            #expect(progress.frontier == ["g\(index)"])
            progress.claim("g\(index)")
            progress.markDone("g\(index)")
        }
        #expect(progress.allDone)
    }

    @Test func aSpeculateLineAsksForBestOfNAndIsCheckedRenderedAndKept() throws {
        let checklist = try ChecklistParser.parse("# S\n\n## A\nSpeculate: 3\n- [ ] a\n", file: "ACCEPTANCE.md")
        #expect(checklist.groups.first?.speculate == 3)
        #expect(ChecklistRenderer.render(checklist).contains("Speculate: 3"))
        #expect(try ChecklistJSON.decode(ChecklistJSON.encode(checklist), file: "ledger").groups.first?.speculate == 3)
        for bad in ["1", "6", "three"] {
            #expect {
                _ = try ChecklistParser.parse("# S\n\n## A\nSpeculate: \(bad)\n- [ ] a\n", file: "ACCEPTANCE.md")
            } throws: { error in
                "\(error)".contains("ACCEPTANCE.md:4") && "\(error)".contains("must be a number from 2 to 5")
            }
        }
        let json = #"{"title": "S", "groups": [{"title": "A", "criteria": ["a"], "speculate": 9}]}"#
        #expect {
            _ = try ChecklistJSON.decode(Data(json.utf8), file: "plan.json")
        } throws: { error in
            "\(error)".contains("groups[0].speculate") && "\(error)".contains("expected a number from 2 to 5")
        }
    }

    @Test func bestOfNRanksByCriteriaThenReviewThenDiffThenCostAndSaysWhyEachLost() {
        func candidate(
            _ number: Int,
            criteria: Int? = nil,
            review: Int? = nil,
            diff: Int = 10,
            cost: Double = 0
        )
            -> SpeculationCandidate
        {
            SpeculationCandidate(
                key: AttemptKey(group: "a", number: number),
                passed: true,
                criteria: criteria.map { CriteriaScore(passed: $0) },
                reviewScore: review,
                diffLines: diff,
                costUSD: cost
            )
        }
        var failed = candidate(9, criteria: 99)
        failed.passed = false
        let ranked = SpeculationCandidate.ranked([
            candidate(1, criteria: 2, review: 9, diff: 1),
            candidate(2, criteria: 3, review: 5, diff: 50),
            candidate(3, criteria: 3, review: 7, diff: 80),
            candidate(4, criteria: 3, review: 7, diff: 20, cost: 0.5),
            candidate(5, criteria: 3, review: 7, diff: 20, cost: 0.2),
            failed,
        ])
        #expect(ranked.map(\.key.number) == [5, 4, 3, 2, 1], "a failed candidate is never ranked")
        let winner = ranked[0]
        #expect(SpeculationCandidate.reason(ranked[1], below: winner).hasSuffix("a higher cost ($0.50 against $0.20)"))
        #expect(
            SpeculationCandidate.reason(ranked[2], below: winner)
                == "outranked by a#5: a larger diff (80 lines against 20)"
        )
        #expect(SpeculationCandidate.reason(ranked[3], below: winner).hasSuffix("a lower review score (5 against 7)"))
        #expect(SpeculationCandidate.reason(ranked[4], below: winner).hasSuffix("fewer criteria passed (2 against 3)"))
        #expect(
            ranked[0].lostBecause == nil
                && ranked[2].lostBecause == "outranked by a#5: a larger diff (80 lines against 20)"
        )
    }
}
