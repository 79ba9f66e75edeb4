import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// Every kind of event has one payload type, and the data the ledger stores for each kind (what scripts, the API and
/// the dashboard read) stays as it was: a golden file holds the data of a sample of every state change.
@Suite("Event payloads: one type per kind, the wire format kept", .tags(.small))
struct EventPayloadTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/event-data.json")

    static let at = Date(timeIntervalSince1970: 1_800_000_000)
    static let key = AttemptKey(group: "api", number: 2)
    static let other = AttemptKey(group: "cli", number: 1)
    static let commit = String(repeating: "c", count: 40)
    static let head = String(repeating: "d", count: 40)

    static func verification(_ kind: VerificationKind, passed: Bool, exit: Int? = 0) -> Verification {
        Verification(
            kind: kind,
            attempt: kind == .final ? nil : key,
            commit: commit,
            command: "./verify.sh",
            groups: kind == .final ? [] : ["api"],
            landedGroupsChecked: kind == .regression ? 2 : 0,
            exitCode: exit,
            passed: passed,
            timedOut: exit == nil,
            duration: .milliseconds(1250),
            outputTail: "ok",
            report: nil
        )
    }

    static var spec: MissionSpec {
        MissionSpec(
            id: MissionID("m-0000abcd") ?? MissionID.random(),
            goal: "Ship it",
            repository: "/srv/app",
            baseCommit: String(repeating: "b", count: 40),
            targetBranch: "flotilla/m-0000abcd",
            verifyCommand: "./verify.sh",
            protectedPatterns: [],
            agents: 2,
            backend: "claude",
            model: nil,
            limits: MissionLimits(),
            checklist: Checklist(
                title: "Ship",
                groups: [ChecklistGroup(id: "api", title: "API", criteria: ["answers"])]
            ),
            checklistSource: "# Ship\n"
        )
    }

    /// A sample of every state change, with and without its optional parts.
    static var samples: [(name: String, change: LedgerChange)] {
        let stall = StallAssessment(
            stalledAttempts: 2,
            escalation: .strategyChange,
            bestCriteriaPassed: 1,
            block: false,
            madeProgress: false
        )
        var start = AttemptStart(
            key: key,
            sequence: 7,
            slot: 3,
            backend: "claude",
            startCommit: head,
            branch: "flotilla/m-0000abcd/api-2",
            worktree: "/w",
            promptPath: "/p",
            transcriptPath: "/t",
            claimExpiresAt: at,
            sandbox: "bwrap, network allowlist"
        )
        start.roundSize = 2
        var unsandboxed = start
        unsandboxed.sandbox = nil
        let group = ChecklistGroup(id: "docs", title: "Docs", criteria: ["a README"])
        let candidates = [
            SpeculationCandidate(
                key: key,
                passed: true,
                criteria: CriteriaScore(passed: 3, total: 3),
                reviewScore: 8,
                diffLines: 12,
                costUSD: 0.25
            ),
            SpeculationCandidate(key: other, passed: false, diffLines: 0, costUSD: 0.5, lostBecause: "gate_failed: x"),
        ]
        let runner = ProcessIdentity(pid: 4242, startTicks: 99)
        return [
            ("missionCreated", .missionCreated(spec)),
            (
                "missionStarted",
                .missionStarted(agents: 2, backend: "claude", runner: runner, resumed: true, sandbox: "bwrap")
            ),
            ("missionStarted.bare", .missionStarted(agents: 1, backend: "aider", runner: nil, resumed: false)),
            ("attemptStarted", .attemptStarted(start)),
            ("attemptStarted.unsandboxed", .attemptStarted(unsandboxed)),
            (
                "agentFinished",
                .agentFinished(
                    key,
                    AgentReport(
                        exitCode: 0,
                        duration: .seconds(12),
                        usage: Usage(inputTokens: 900, outputTokens: 120, costUSD: 0.12),
                        backend: "codex"
                    )
                )
            ),
            (
                "agentFinished.failed",
                .agentFinished(
                    key,
                    AgentReport(exitCode: nil, signal: 9, timedOut: true, duration: .seconds(30), failure: "timed out")
                )
            ),
            (
                "attemptCommitted",
                .attemptCommitted(key, commit: commit, diff: DiffStat(files: 2, insertions: 10, deletions: 3))
            ),
            ("attemptCommitted.nothing", .attemptCommitted(key, commit: nil, diff: nil)),
            ("gatePassed", .gateFinished(verification(.gate, passed: true), reviewFollows: true)),
            ("gateFailed", .gateFinished(verification(.gate, passed: false, exit: 1))),
            ("gateTimedOut", .gateFinished(verification(.gate, passed: false, exit: nil))),
            ("mergeStarted", .mergeStarted([key, other], targetHead: head)),
            (
                "landingVerified",
                .landingVerified([key], commit: commit, regression: verification(.regression, passed: true))
            ),
            (
                "attemptsLanded",
                .attemptsLanded(
                    [key, other],
                    landedCommit: commit,
                    regression: verification(.regression, passed: true)
                )
            ),
            (
                "mergeRequeued",
                .mergeRequeued(
                    [key],
                    reason: "trying them apart",
                    verification: verification(.regression, passed: false, exit: 1)
                )
            ),
            ("mergeRequeued.bare", .mergeRequeued([key, other], reason: "conflicts", verification: nil)),
            (
                "attemptFailed",
                .attemptFailed(
                    AttemptConclusion(
                        key: key,
                        outcome: .gateFailed,
                        reason: "exit 1",
                        feedback: "f",
                        stall: stall,
                        groupStatus: .pending,
                        criteria: CriteriaScore(passed: 1)
                    )
                )
            ),
            (
                "attemptFailed.blocked",
                .attemptFailed(
                    AttemptConclusion(
                        key: key,
                        outcome: .gateFailed,
                        reason: "exit 1",
                        feedback: "f",
                        stall: StallAssessment(
                            stalledAttempts: 3,
                            escalation: .strategyChange,
                            bestCriteriaPassed: nil,
                            block: true,
                            madeProgress: true
                        ),
                        groupStatus: .blocked,
                        blockedDependents: ["cli"]
                    )
                )
            ),
            (
                "attemptFailed.interrupted",
                .attemptFailed(
                    AttemptConclusion(
                        key: key,
                        outcome: .interrupted,
                        reason: "stopped",
                        feedback: "f",
                        stall: nil,
                        groupStatus: .active
                    )
                )
            ),
            ("breakerTripped", .breakerTripped(BreakerTrip(reason: .maxCost, detail: "spent $10"))),
            ("groupsApproved", .groupsApproved(["api", "cli"])),
            ("recovered", .recovered(actions: ["ended 1 process"])),
            ("finalVerifyFinished", .finalVerifyFinished(verification(.final, passed: true))),
            ("missionFinished", .missionFinished(.completed, summary: "1/1 groups landed")),
            (
                "modelCalled",
                .modelCalled(
                    ModelCall(
                        role: .critic,
                        attempt: key,
                        model: "m",
                        usage: Usage(inputTokens: 10, outputTokens: 5, costUSD: 0.01),
                        duration: .milliseconds(800)
                    )
                )
            ),
            (
                "modelCalled.failed",
                .modelCalled(
                    ModelCall(role: .planner, model: "m", usage: .zero, duration: .seconds(60), error: "timed out")
                )
            ),
            (
                "refsRestored",
                .refsRestored(
                    [RefRestoration(ref: "refs/heads/t", foreign: commit, restoredTo: head, quarantine: "refs/q")],
                    reason: "moved"
                )
            ),
            (
                "testEditsReverted",
                .testEditsReverted(key, paths: ["tests/test_api.py"])
            ),
            (
                "newTestsDeferred",
                .newTestsDeferred(key, paths: ["tests/test_new.py"])
            ),
            (
                "probesBaseline",
                .probesBaseline(["bench.p95_ms": 131.5, "cov.lines": 82])
            ),
            (
                "refsMoved",
                .refsMoved(
                    [
                        RefMove(ref: "refs/heads/main", from: commit, to: head),
                        RefMove(ref: "refs/heads/new", from: nil, to: head),
                    ],
                    during: [key]
                )
            ),
            (
                "crashNoticed",
                .crashNoticed(CrashNotice(runner: runner, restart: 1, delay: .seconds(2), limit: 3))
            ),
            (
                "crashNoticed.gaveUp",
                .crashNoticed(CrashNotice(runner: runner, restart: nil, delay: .zero, limit: 3))
            ),
            (
                "reviewed",
                .reviewed(
                    key,
                    ReviewVerdict(score: 6, threshold: 7, blocks: true, summary: "thin", concerns: ["tests"])
                )
            ),
            (
                "reviewed.noAnswer",
                .reviewed(
                    key,
                    ReviewVerdict(score: nil, threshold: 7, blocks: false, summary: "no answer", concerns: [])
                )
            ),
            ("approvalRequested", .approvalRequested(key)),
            ("approvalRequested.mission", .approvalRequested(nil, question: "add docs?")),
            ("approvalDecided", .approvalDecided(key, ApprovalDecision(approved: false, reason: "no", by: "cli"))),
            ("approvalDecided.mission", .approvalDecided(nil, ApprovalDecision(approved: true, by: "timeout"))),
            (
                "pushed",
                .pushed(PushAttempt(remote: "origin", branch: "flotilla/m", commit: commit, expected: nil))
            ),
            (
                "pushRefused",
                .pushed(
                    PushAttempt(
                        remote: "origin",
                        branch: "flotilla/m",
                        commit: commit,
                        expected: head,
                        refusal: "stale"
                    )
                )
            ),
            ("landedOnto", .landedOnto(LandingOnto(branch: "main", from: head, commit: commit, how: "merge"))),
            (
                "landRefused",
                .landedOnto(LandingOnto(branch: "main", from: head, commit: nil, how: "none", refusal: "dirty"))
            ),
            (
                "notificationDelivered",
                .notificationTried(
                    NotificationTry(
                        notification: 5,
                        target: "ops",
                        kind: .webhook,
                        event: "completed",
                        number: 1,
                        attempts: 8
                    )
                )
            ),
            (
                "notificationFailed",
                .notificationTried(
                    NotificationTry(
                        notification: 5,
                        target: "ops",
                        kind: .slack,
                        event: "failed",
                        number: 2,
                        attempts: 8,
                        error: "HTTP 500",
                        retryAt: at.addingTimeInterval(4)
                    )
                )
            ),
            (
                "objectiveChecked",
                .objectiveChecked(
                    ObjectiveVerdict(met: false, summary: "docs missing", proposed: [group], leftOut: 1),
                    putToHuman: true
                )
            ),
            (
                "objectiveChecked.noAnswer",
                .objectiveChecked(ObjectiveVerdict(met: nil, summary: "timeout", proposed: []), putToHuman: false)
            ),
            (
                "groupsAdded",
                .groupsAdded(
                    [group],
                    checklist: Checklist(title: "Ship", groups: [group]),
                    by: "objective check"
                )
            ),
            ("speculationRanked", .speculationRanked(group: "api", candidates)),
        ]
    }

    static func data(_ change: LedgerChange) -> (EventKind, JSONValue) {
        let event = change.event(mission: spec.id, at: at)
        return (event.kind, .object(event.data))
    }

    @Test func theDataOfEveryChangeIsAsTheGoldenFileHasIt() throws {
        var recorded: [String: JSONValue] = [:]
        for (name, change) in Self.samples {
            let (kind, data) = Self.data(change)
            recorded[name] = .object(["kind": .string(kind.rawValue), "data": data])
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if ProcessInfo.processInfo.environment["FLOTILLA_RECORD_GOLDEN"] == "1" {
            try encoder.encode(recorded).write(to: Self.golden)
        }
        let golden = try JSONDecoder().decode([String: JSONValue].self, from: Data(contentsOf: Self.golden))
        #expect(Set(golden.keys) == Set(recorded.keys))
        for name in recorded.keys.sorted() {
            #expect(recorded[name] == golden[name], "\(name)")
        }
    }

    @Test func everyKindHasOnePayloadTypeAndEveryEventsDataReadsBackAsIt() throws {
        for kind in EventKind.allCases {
            #expect(kind.payloadType != nil, "\(kind) has no payload type")
        }
        for (name, change) in Self.samples {
            let event = change.event(mission: Self.spec.id, at: Self.at)
            let type = try #require(event.kind.payloadType)
            #expect(type.kinds.contains(event.kind))
            let readsBack = Self.roundTrips(event, as: type)
            #expect(readsBack, "\(name): \(event.data)")
        }
    }

    @Test func aPayloadIsReadOnlyFromEventsOfItsKinds() throws {
        let reviewed = LedgerChange.reviewed(
            Self.key,
            ReviewVerdict(score: 9, threshold: 7, blocks: false, summary: "good", concerns: [])
        )
        .event(mission: Self.spec.id, at: Self.at)
        #expect(reviewed.payload(MissionEvent.ReviewScored.self)?.score == 9)
        #expect(reviewed.payload(MissionEvent.AttemptFailed.self) == nil)
        var stripped = reviewed
        stripped.data["threshold"] = nil
        #expect(stripped.payload(MissionEvent.ReviewScored.self) == nil)
    }

    /// Whether the event's data decodes as `type` and encodes back to the same data.
    static func roundTrips<P: EventPayload>(_ event: MissionEvent, as type: P.Type) -> Bool {
        guard let payload = event.payload(type) else { return false }
        return JSONValue.fields(of: payload) == event.data
    }
}
