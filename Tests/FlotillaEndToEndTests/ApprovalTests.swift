import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// `--approve landings|final` end to end.
///
/// The built binary runs the mission; a person answers with `flotilla approve` and `flotilla reject` from another
/// process. The test learns that something waits from the `needs_human` notification it receives: a signal, not a
/// poll.
@Suite("Approval gates, end to end", .tags(.large), .timeLimit(.minutes(10)))
struct ApprovalTests {
    static let oneGroup = "# One thing\n\n## A\n- [ ] a.txt says a ok\n"
    static let writesOK = #"{"groups": {"a": [{"write": {"a.txt": "a ok\n"}}]}}"#

    /// Runs the mission in the background with `arguments`; `body` gets the receiver of its needs-human notifications.
    func mission(
        _ arguments: [String],
        scenario: String = writesOK,
        _ body: @Sendable (MissionFixture, NotificationReceiver) async throws -> Void
    ) async throws -> (FlotillaBinary.Outcome, MissionAudit) {
        let fixture = try await MissionFixture(checklist: Self.oneGroup, groups: ["a"])
        // Removed when the test ends (`audit.repository`), not here: the test reads prompts after.
        return try await NotificationReceiver.serving { receiver, port in
            let environment = try NotificationTests.configure(
                fixture,
                NotificationTests.webhook(port: port, events: #"["needs_human"]"#)
            )
            let scenarioFile = try fixture.scenario(scenario)
            // The run waits for what `body` does as a person (CLI calls, each a process start); on two loaded cores
            // that took 106 s once, so the backstop against a hang is long.
            let run = Task {
                try await fixture.run(
                    ["--backend", "simulate", "--scenario", scenarioFile] + arguments,
                    environment: environment,
                    timeout: .seconds(600)
                )
            }
            do {
                try await body(fixture, receiver)
            } catch {
                run.cancel()
                fixture.remove()
                throw error
            }
            let outcome = try await run.value
            return (outcome, try await fixture.audit())
        }
    }

    /// `flotilla ARGUMENTS` in the fixture, expecting success.
    @discardableResult
    static func flotilla(_ arguments: [String], in fixture: MissionFixture) async throws -> String {
        let outcome = try await FlotillaBinary.run(arguments, in: fixture.repository.path)
        #expect(outcome.exitCode == 0, "flotilla \(arguments.joined(separator: " ")): \(outcome.standardError)")
        return outcome.standardOutput + outcome.standardError
    }

    static func missionID(_ receiver: NotificationReceiver, request index: Int) async throws -> String {
        let body = try #require(await receiver.received.dropFirst(index).first?.body)
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(object["event"] as? String == "approval.requested")
        return try #require(object["mission"] as? String)
    }

    @Test func aVerifiedLandingWaitsUntilAHumanApprovesIt() async throws {
        let (outcome, audit) = try await mission(["--approve", "landings"]) { fixture, receiver in
            #expect(await receiver.waitForRequests(1), "no approval was asked for")
            let id = try await Self.missionID(receiver, request: 0)
            // Verified, waiting: nothing has landed, and status says what waits and how to answer.
            let status = try await Self.flotilla(["status", id], in: fixture)
            #expect(status.contains("Waiting:  a#1 for a human"), "\(status)")
            let json = try await Self.flotilla(["status", id, "--output", "json"], in: fixture)
            #expect(
                json.contains("\"awaiting_approval\" : [\n    \"a#1\"")
                    || json.contains("\"awaiting_approval\":[\"a#1\"]"),
                "\(json)"
            )
            let audit = try await MissionAudit(fixture.repository)
            #expect(try await audit.attempt("a", 1)?.outcome == nil)
            #expect(try await audit.groups().first?.landedCommit == nil)
            let answer = try await Self.flotilla(["approve", id, "--detach"], in: fixture)
            #expect(answer.contains("approved: a#1"), "\(answer)")
        }
        defer { audit.repository.directory.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        #expect(audit.mission.state == .completed)
        let events = try await audit.events()
        let asked = try #require(events.firstIndex { $0.kind == .approvalRequested })
        let decided = try #require(events.firstIndex { $0.kind == .approvalDecided })
        let landed = try #require(events.firstIndex { $0.kind == .attemptLanded })
        #expect(asked < decided && decided < landed)
        #expect(events[decided].message == "landing of a#1 approved by a human")
    }

    @Test func aRejectionsReasonReachesTheNextAttemptsPrompt() async throws {
        let reason = "Write it with printf, not echo"
        let (outcome, audit) = try await mission(["--approve", "landings"]) { fixture, receiver in
            #expect(await receiver.waitForRequests(1))
            let id = try await Self.missionID(receiver, request: 0)
            try await Self.flotilla(["reject", id, "--group", "a", "--reason", reason], in: fixture)
            #expect(await receiver.waitForRequests(2), "the second attempt did not ask")
            #expect(try await Self.missionID(receiver, request: 1) == id)
            try await Self.flotilla(["approve", id, "--group", "a", "--detach"], in: fixture)
        }
        defer { audit.repository.directory.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let first = try #require(try await audit.attempt("a", 1))
        #expect(first.outcome == .rejected)
        #expect(first.reason == "rejected before landing by a human: \(reason)")
        let prompt = try audit.prompt("a", 2)
        #expect(prompt.contains(reason), "\(prompt)")
        #expect(prompt.contains("rejected it"))
        #expect(try await audit.attempt("a", 2)?.outcome == .landed)
    }

    @Test(arguments: [ApprovalTimeoutAction.approve, .reject])
    func anApprovalTimeoutTakesItsStatedAction(_ action: ApprovalTimeoutAction) async throws {
        let (outcome, audit) = try await mission(
            [
                "--approve", "landings", "--approval-timeout", "1", "--approval-timeout-action", action.rawValue,
                "--max-attempts", "2",
            ]
        ) { _, _ in }
        defer { audit.repository.directory.remove() }
        let decisions = try await audit.events().filter { $0.kind == .approvalDecided }
        #expect(
            !decisions.isEmpty
                && decisions.allSatisfy { $0.payload(MissionEvent.ApprovalDecided.self)?.by == "timeout" }
        )
        switch action {
        case .approve:
            #expect(outcome.exitCode == 0, "\(outcome.standardError)")
            #expect(try await audit.attempt("a", 1)?.outcome == .landed)
        case .reject:
            #expect(outcome.exitCode != 0)
            #expect(try await audit.attempt("a", 1)?.outcome == .rejected)
            #expect(
                try await audit.attempt("a", 1)?.reason?.contains(
                    "by timeout: no decision within 1.0s; the timeout action is reject"
                ) == true
            )
            #expect(try audit.prompt("a", 2).contains("no answer came in time"))
            #expect(try await audit.groups().first?.landedCommit == nil, "nothing lands without approval")
        }
    }

    @Test func theFinishedMissionWaitsForAHumanAndARejectionStopsIt() async throws {
        let (outcome, audit) = try await mission(["--approve", "final"]) { fixture, receiver in
            #expect(await receiver.waitForRequests(1))
            let body = try #require(await receiver.received.first?.body)
            let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            let id = try #require(object["mission"] as? String)
            #expect((object["text"] as? String)?.contains("every group landed and verified; the mission waits") == true)
            let status = try await Self.flotilla(["status", id], in: fixture)
            #expect(status.contains("Waiting:  mission for a human"), "\(status)")
            try await Self.flotilla(["reject", id, "--reason", "not what I meant"], in: fixture)
        }
        defer { audit.repository.directory.remove() }
        #expect(outcome.exitCode != 0)
        #expect(audit.mission.state == .stopped)
        let finished = try #require(try await audit.events().last { $0.kind == .missionFinished })
        #expect(finished.message.contains("rejected by a human: not what I meant"), "\(finished.message)")
        #expect(try await audit.attempt("a", 1)?.outcome == .landed, "the landed work stays")
    }
}
