import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import GRDB
import Testing

@Suite("SQLite ledger (real file)", .tags(.medium))
struct SQLiteLedgerTests {
    static let sha1 = String(repeating: "1", count: 40)
    static let sha2 = String(repeating: "2", count: 40)
    static let sha3 = String(repeating: "3", count: 40)
    let mission = MissionID.random()

    func spec() throws -> MissionSpec {
        let checklist = try ChecklistParser.parse(
            "# Goal\n## A\n- [ ] a1\n- [ ] a2\n## B\nDepends on: a\n- [ ] b1\n",
            file: "ACCEPTANCE.md"
        )
        return MissionSpec(
            id: mission,
            goal: "Goal",
            repository: "/repo",
            baseCommit: Self.sha1,
            targetBranch: "flotilla/\(mission)",
            verifyCommand: "./verify.sh",
            protectedPatterns: ["/verify.sh"],
            agents: 2,
            backend: "simulate",
            model: nil,
            limits: MissionLimits(maxCostUSD: 5, maxAttempts: 10),
            checklist: checklist,
            checklistSource: "ACCEPTANCE.md"
        )
    }

    func start(_ group: String, _ number: Int, sequence: Int) -> LedgerChange {
        .attemptStarted(
            AttemptStart(
                key: AttemptKey(group: group, number: number),
                sequence: sequence,
                slot: 1,
                backend: "simulate",
                startCommit: Self.sha1,
                branch: "b",
                worktree: "/wt",
                promptPath: "/p",
                transcriptPath: "/t",
                claimExpiresAt: Date(timeIntervalSince1970: 2_000_000_000)
            )
        )
    }

    func verification(_ kind: VerificationKind, _ key: AttemptKey?, commit: String, passed: Bool) -> Verification {
        Verification(
            kind: kind,
            attempt: key,
            commit: commit,
            command: "./verify.sh",
            groups: key.map { [$0.group] } ?? [],
            exitCode: passed ? 0 : 1,
            passed: passed,
            timedOut: false,
            duration: .milliseconds(12),
            outputTail: passed ? "ok" : "FAIL",
            report: nil
        )
    }

    @Test func aMissionsLifeIsRecordedWithOneEventPerChange() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.file(".flotilla/ledger.sqlite")
            let ledger = try SQLiteLedger(path: path)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let a1 = AttemptKey(group: "a", number: 1)
            let a2 = AttemptKey(group: "a", number: 2)
            let changes: [LedgerChange] = [
                .missionCreated(try spec()),
                .missionStarted(agents: 2, backend: "simulate", runner: nil, resumed: false),
                start("a", 1, sequence: 1),
                .agentFinished(
                    a1,
                    AgentReport(
                        exitCode: 0,
                        duration: .seconds(2),
                        usage: Usage(inputTokens: 10, outputTokens: 5, costUSD: 0.25)
                    )
                ),
                .attemptCommitted(a1, commit: Self.sha2, diff: DiffStat(files: 1, insertions: 3, deletions: 0)),
                .gateFinished(verification(.gate, a1, commit: Self.sha2, passed: false)),
                .attemptFailed(
                    AttemptConclusion(
                        key: a1,
                        outcome: .gateFailed,
                        reason: "exit 1",
                        feedback: "FAIL",
                        stall: StallAssessment(
                            stalledAttempts: 1,
                            escalation: .none,
                            bestCriteriaPassed: nil,
                            block: false,
                            madeProgress: false
                        ),
                        groupStatus: .pending
                    )
                ),
                start("a", 2, sequence: 2),
                .agentFinished(a2, AgentReport(exitCode: 0, duration: .seconds(1), usage: Usage(costUSD: 0.5))),
                .attemptCommitted(a2, commit: Self.sha3, diff: nil),
                .gateFinished(verification(.gate, a2, commit: Self.sha3, passed: true)),
                .mergeStarted([a2], targetHead: Self.sha1),
                .landingVerified(
                    [a2],
                    commit: Self.sha3,
                    regression: verification(.regression, a2, commit: Self.sha3, passed: true)
                ),
                .attemptsLanded(
                    [a2],
                    landedCommit: Self.sha3,
                    regression: verification(.regression, a2, commit: Self.sha3, passed: true)
                ),
            ]
            for change in changes { try await ledger.record(change, mission: mission, at: now) }

            let events = try await ledger.events(of: mission, after: 0, limit: 100)
            #expect(events.count == changes.count)
            #expect(events.map(\.kind).first == .missionCreated)
            #expect(events.last?.kind == .attemptLanded)
            #expect(events.map(\.id) == events.map(\.id).sorted())

            let record = try #require(try await ledger.mission(mission))
            #expect(record.state == .running)
            #expect(record.spentUSD == 0.75)
            #expect(record.attempts == 2)
            #expect(record.groupsDone == 1)
            #expect(record.spec == (try spec()))

            let groups = try await ledger.groups(of: mission)
            #expect(groups.map(\.id) == ["a", "b"])
            #expect(groups[0].status == .done && groups[0].landedCommit == Self.sha3 && groups[0].costUSD == 0.75)
            #expect(groups[0].criteria == ["a1", "a2"])
            #expect(groups[1].dependsOn == ["a"] && groups[1].status == .pending)

            let attempts = try await ledger.attempts(of: mission)
            #expect(attempts.map(\.outcome) == [.gateFailed, .landed])
            #expect(
                attempts[0].feedback == "FAIL" && attempts[0].diff == DiffStat(files: 1, insertions: 3, deletions: 0)
            )
            #expect(attempts[0].usage == Usage(inputTokens: 10, outputTokens: 5, costUSD: 0.25))

            let verifications = try await ledger.verifications(of: mission)
            #expect(verifications.map(\.verification.kind) == [.gate, .gate, .regression])

            // The file is a WAL-mode SQLite database that other tools can read.
            let queue = try DatabaseQueue(path: path)
            let mode = try await queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
            let versions = try await queue.read {
                try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations")
            }
            #expect(versions.count == 15)
        }
    }

    @Test func theOutboxIsFilledWithTheEventAndAClaimKeepsOthersOffUntilItEnds() async throws {
        let ledger = try SQLiteLedger(inMemory: ())
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        try await ledger.record(.missionCreated(try spec()), mission: mission, at: now)
        try await ledger.setNotificationTargets(
            [
                NotificationTarget(
                    name: "ops",
                    kind: .webhook,
                    url: "http://h/x",
                    secretVariable: "S",
                    events: [.completed]
                ),
                NotificationTarget(name: "pager", kind: .ntfy, url: "http://h/t", events: [.breaker]),
            ],
            for: mission
        )
        // Events nobody is told about fill nothing; a finished mission fills one row, for the target that wants it.
        try await ledger.record(.groupsApproved(["a"]), mission: mission, at: now)
        #expect(try await ledger.pendingNotifications(of: mission).count == 0)
        let finished = try await ledger.record(.missionFinished(.completed, summary: "done"), mission: mission, at: now)
        #expect(try await ledger.pendingNotifications(of: mission).count == 1)

        let claimed = try await ledger.claimDueNotifications(now: now)
        #expect(claimed.map(\.notification.target.name) == ["ops"])
        #expect(claimed.first?.notification.payload.eventID == finished.id)
        // Claimed: another process finds nothing until the claim (timeout 10 s + 5 s) ends, then takes it over.
        #expect(try await ledger.claimDueNotifications(now: now.addingTimeInterval(14)).isEmpty)
        let again = try await ledger.claimDueNotifications(now: now.addingTimeInterval(16))
        #expect(again.count == 1)

        // A failed try releases the claim and sets the next; the last allowed try gives up.
        let pending = try #require(again.first?.notification)
        let failure = NotificationTry(of: pending, error: "HTTP 500", now: now.addingTimeInterval(16))
        #expect(failure.retryAt == now.addingTimeInterval(18))
        try await ledger.record(.notificationTried(failure), mission: mission, at: now.addingTimeInterval(16))
        #expect(try await ledger.claimDueNotifications(now: now.addingTimeInterval(17)).isEmpty)
        let retried = try #require(try await ledger.claimDueNotifications(now: now.addingTimeInterval(18)).first)
        #expect(retried.notification.failures == 1)
        try await ledger.record(
            .notificationTried(NotificationTry(of: retried.notification, error: nil, now: now)),
            mission: mission,
            at: now.addingTimeInterval(18)
        )
        let records = try await ledger.notifications(of: mission)
        #expect(records.map(\.state) == [.delivered] && records.first?.tries == 2)
        #expect(records.first?.lastError == "HTTP 500")
        // A try for a notification already settled is refused: it was recorded by someone else.
        await #expect(throws: LedgerError.self) {
            try await ledger.record(.notificationTried(failure), mission: mission, at: now)
        }
    }

    @Test func twoSlotsCannotClaimOneGroup() async throws {
        let ledger = try SQLiteLedger(inMemory: ())
        try await ledger.record(.missionCreated(try spec()), mission: mission, at: Date())
        try await ledger.record(start("a", 1, sequence: 1), mission: mission, at: Date())
        await #expect(throws: LedgerError.self) {
            try await ledger.record(start("a", 2, sequence: 2), mission: mission, at: Date())
        }
        #expect(try await ledger.attempts(of: mission).count == 1)
    }

    @Test func theCandidatesOfABestOfNRoundHoldAClaimEachAndNoMore() async throws {
        let ledger = try SQLiteLedger(inMemory: ())
        try await ledger.record(.missionCreated(try spec()), mission: mission, at: Date())
        for number in 1...2 {
            guard case .attemptStarted(var start) = start("a", number, sequence: number) else { return }
            start.roundSize = 2
            try await ledger.record(.attemptStarted(start), mission: mission, at: Date())
        }
        guard case .attemptStarted(var third) = start("a", 3, sequence: 3) else { return }
        third.roundSize = 2
        await #expect(throws: LedgerError.self) {
            try await ledger.record(.attemptStarted(third), mission: mission, at: Date())
        }
        #expect(try await ledger.attempts(of: mission).map(\.key.number) == [1, 2])
        #expect(try await ledger.groups(of: mission).first?.attempts == 2)
    }

    @Test func aLandedGroupCannotBeWorkedOrLandedAgain() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.file("ledger.sqlite")
            let ledger = try SQLiteLedger(path: path)
            let now = Date()
            try await ledger.record(.missionCreated(try spec()), mission: mission, at: now)
            let first = AttemptKey(group: "a", number: 1)
            try await ledger.record(start("a", 1, sequence: 1), mission: mission, at: now)
            try await ledger.record(.mergeStarted([first], targetHead: Self.sha1), mission: mission, at: now)
            let regression = verification(.regression, first, commit: Self.sha2, passed: true)
            try await ledger.record(
                .landingVerified([first], commit: Self.sha2, regression: regression),
                mission: mission,
                at: now
            )
            try await ledger.record(
                .attemptsLanded(
                    [first],
                    landedCommit: Self.sha2,
                    regression: regression
                ),
                mission: mission,
                at: now
            )
            let eventsBefore = try await ledger.events(of: mission, after: 0, limit: 100).count

            // Through the ledger: a done group cannot be claimed again, and the refusal leaves no trace.
            await #expect(throws: LedgerError.self) {
                try await ledger.record(start("a", 2, sequence: 2), mission: mission, at: now)
            }
            #expect(try await ledger.events(of: mission, after: 0, limit: 100).count == eventsBefore)
            #expect(try await ledger.attempts(of: mission).count == 1)

            // Below the ledger: even raw SQL cannot record a second landing of the group.
            let database = try DatabaseQueue(path: path)
            await #expect(throws: DatabaseError.self) {
                try await database.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO attempts (mission_id, group_id, number, sequence, slot, backend, phase, outcome,
                                start_commit, landed_commit, branch, worktree, prompt_path, transcript_path, started_at)
                            VALUES (?, 'a', 9, 9, 1, 'x', 'finished', 'landed', ?, ?, 'b', 'w', 'p', 't', 0);
                            INSERT INTO merges (mission_id, group_id, attempt_number, target_before, merged_commit, state,
                                verification_id, started_at)
                            VALUES (?, 'a', 9, ?, ?, 'landed', 1, 0);
                            """,
                        arguments: [mission.rawValue, Self.sha1, Self.sha3, mission.rawValue, Self.sha1, Self.sha3]
                    )
                }
            }
        }
    }

    @Test func onlyAVerifiedCommitCanLand() async throws {
        let ledger = try SQLiteLedger(inMemory: ())
        let now = Date()
        let key = AttemptKey(group: "a", number: 1)
        try await ledger.record(.missionCreated(try spec()), mission: mission, at: now)
        try await ledger.record(start("a", 1, sequence: 1), mission: mission, at: now)
        try await ledger.record(.mergeStarted([key], targetHead: Self.sha1), mission: mission, at: now)
        let regression = verification(.regression, key, commit: Self.sha2, passed: true)
        // No verification recorded for this landing yet: refused.
        await #expect(throws: LedgerError.self) {
            try await ledger.record(
                .attemptsLanded([key], landedCommit: Self.sha2, regression: regression),
                mission: mission,
                at: now
            )
        }
        try await ledger.record(
            .landingVerified([key], commit: Self.sha2, regression: regression),
            mission: mission,
            at: now
        )
        // Verified, but a different commit: refused.
        await #expect(throws: LedgerError.self) {
            try await ledger.record(
                .attemptsLanded([key], landedCommit: Self.sha3, regression: regression),
                mission: mission,
                at: now
            )
        }
        try await ledger.record(
            .attemptsLanded([key], landedCommit: Self.sha2, regression: regression),
            mission: mission,
            at: now
        )
        let merges = try await ledger.merges(of: mission)
        #expect(merges.map(\.state) == [.landed])
        #expect(merges.first?.verification?.commit == Self.sha2)
    }

    @Test func runningTimeCountsRunsNotTheTimeBetween() async throws {
        let ledger = try SQLiteLedger(inMemory: ())
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        try await ledger.record(.missionCreated(try spec()), mission: mission, at: t0)
        try await ledger.record(
            .missionStarted(agents: 1, backend: "x", runner: nil, resumed: false),
            mission: mission,
            at: t0
        )
        // The first run crashes after 10 s (its last event)…
        try await ledger.record(start("a", 1, sequence: 1), mission: mission, at: t0.addingTimeInterval(10))
        // …and is resumed an hour later, then stops after 5 more seconds.
        let resumed = t0.addingTimeInterval(3600)
        try await ledger.record(
            .missionStarted(agents: 1, backend: "x", runner: nil, resumed: true),
            mission: mission,
            at: resumed
        )
        try await ledger.record(
            .missionFinished(.stopped, summary: "s"),
            mission: mission,
            at: resumed.addingTimeInterval(5)
        )
        #expect(try await ledger.mission(mission)?.runningSeconds == 15)
    }

    @Test func schemaRejectsImpossibleStates() async throws {
        let ledger = try SQLiteLedger(inMemory: ())
        let now = Date()
        try await ledger.record(.missionCreated(try spec()), mission: mission, at: now)
        // An attempt on a group that does not exist.
        await #expect(throws: LedgerError.self) {
            try await ledger.record(start("ghost", 1, sequence: 1), mission: mission, at: now)
        }
        // A passing verification with a failing exit code.
        var bad = verification(.final, nil, commit: Self.sha2, passed: true)
        bad.exitCode = 1
        await #expect(throws: LedgerError.self) {
            try await ledger.record(.finalVerifyFinished(bad), mission: mission, at: now)
        }
        #expect(try await ledger.events(of: mission, after: 0, limit: 10).count == 1)
    }

    @Test func blockingMarksDependentsInTheSameTransaction() async throws {
        let ledger = try SQLiteLedger(inMemory: ())
        let now = Date()
        try await ledger.record(.missionCreated(try spec()), mission: mission, at: now)
        try await ledger.record(start("a", 1, sequence: 1), mission: mission, at: now)
        let event = try await ledger.record(
            .attemptFailed(
                AttemptConclusion(
                    key: AttemptKey(group: "a", number: 1),
                    outcome: .gateFailed,
                    reason: "exit 1",
                    feedback: "f",
                    stall: StallAssessment(
                        stalledAttempts: 1,
                        escalation: .strategyChange,
                        bestCriteriaPassed: nil,
                        block: true,
                        madeProgress: false
                    ),
                    groupStatus: .blocked,
                    blockedDependents: ["b"]
                )
            ),
            mission: mission,
            at: now
        )
        #expect(event.message.contains("group blocked with its dependents b"))
        let groups = try await ledger.groups(of: mission)
        #expect(groups.map(\.status) == [.blocked, .blocked])
        #expect(groups[1].blockedReason == "depends on blocked group a")
        try await ledger.record(.missionFinished(.blocked, summary: "s"), mission: mission, at: now)
        let record = try #require(try await ledger.mission(mission))
        #expect(record.state == .blocked && record.stopReason == .blocked && record.finishedAt != nil)
    }

    @Test func anUnreadableLedgerIsAClearError() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.write("ledger.sqlite", "this is not a database")
            #expect {
                _ = try SQLiteLedger(path: dir.file("ledger.sqlite"))
            } throws: { error in
                "\(error)".hasPrefix("cannot open the ledger \(dir.file("ledger.sqlite"))")
            }
        }
    }

    @Test func aStoredValueThisVersionDoesNotKnowIsAnErrorNamingTheRow() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.file("ledger.sqlite")
            let ledger = try SQLiteLedger(path: path)
            let created = try await ledger.record(.missionCreated(try spec()), mission: mission, at: Date())
            // What a newer Flotilla might write: an event kind and a field this version has never heard of.
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(
                    sql: "UPDATE events SET kind = 'mission_teleported' WHERE id = ?",
                    arguments: [created.id]
                )
                try db.execute(sql: #"UPDATE missions SET options_json = '{"agents": "many"}'"#)
            }
            await #expect {
                _ = try await ledger.events(of: mission, after: 0, limit: 10)
            } throws: { error in
                "\(error)".contains("events of \(mission) #\(created.id): kind is 'mission_teleported'")
            }
            await #expect {
                _ = try await ledger.mission(mission)
            } throws: { error in
                "\(error)".contains("missions \(mission): options_json")
            }
        }
    }

    @Test func fieldsStoredByEarlierVersionsReadUnderTheirNewNames() throws {
        let stored =
            #"{"scenario_path": "/s.json", "pass_environment": ["TOKEN"], "critic_api": "openai", "#
            + #""keep_attempt_branches": true, "merge_batch": 8, "verify_timeout_seconds": 60}"#
        let fields = try MissionFields.stored(stored)
        #expect(fields.scenario == "/s.json" && fields.passEnv == ["TOKEN"] && fields.critic == .openai)
        #expect(fields.keepBranches == true && fields.mergeBatch == 8 && fields.verifyTimeoutSeconds == 60)
        #expect(try MissionFields.stored("{}") == MissionFields())
        // `architect` was a flag before it named a model: on meant the critic's.
        #expect(try MissionFields.stored(#"{"architect": true}"#).architect == "critic")
        #expect(try MissionFields.stored(#"{"architect": false}"#).architect == nil)
        #expect(try MissionFields.stored(#"{"architect": "claude:opus"}"#).architect == "claude:opus")
    }
}
