import FlotillaAPI
import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// GCO's iterate, complete and abort as Flotilla's `step`, `stop --complete` and `stop --terminate`, through the built
/// binary on missions toward a number (`TypedCriteriaTests.project`).
@Suite("step, stop --terminate, stop --complete", .tags(.large), .timeLimit(.minutes(10)))
struct StepAndStopTests {
    /// Creates the mission without starting it; the agent runs `script` (a case on FLOTILLA_GROUP/FLOTILLA_ATTEMPT).
    static func created(
        _ repository: FixtureRepository,
        _ script: String,
        arguments: [String] = []
    ) async throws -> (id: String, scratch: TemporaryDirectory) {
        let scratch = try TemporaryDirectory(prefix: "flotilla-step")
        let agent = try scratch.write("agent.sh", "#!/bin/sh\n\(script)\n")
        let created = try await FlotillaBinary.run(
            [
                "run", "--verify", "./verify.sh", "--sandbox-write", scratch.path, "--agent-command", "sh \(agent)",
                "--no-start", "--output", "json",
            ] + arguments,
            in: repository.path
        )
        #expect(created.exitCode == 0, "\(created.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(created.standardOutput.utf8)) as? [String: Any]
        return (try #require(object?["id"] as? String), scratch)
    }

    static func status(_ id: String, in repository: FixtureRepository) async throws -> [String: Any] {
        let status = try await FlotillaBinary.run(["status", id, "--output", "json"], in: repository.path)
        #expect(status.exitCode == 0, "\(status.standardError)")
        return try #require(try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any])
    }

    @Test func aStepRunsItsAttemptsThenPausesAndTheNextStepFinishes() async throws {
        let repository = try await TypedCriteriaTests.project(TypedCriteriaTests.fast)
        defer { repository.directory.remove() }
        let script = """
            case "$FLOTILLA_ATTEMPT" in
            1) \(TypedCriteriaTests.steps(300)) ;;
            *) \(TypedCriteriaTests.steps(80)) ;;
            esac
            """
        let (id, scratch) = try await Self.created(repository, script)
        defer { scratch.remove() }
        let first = try await FlotillaBinary.run(["step", id, "--attempts", "1"], in: repository.path)
        #expect(first.exitCode == 4, "\(first.standardError)")
        #expect(first.standardOutput.contains("stopped (step_limit)"), "\(first.standardOutput)")
        var audit = try await MissionAudit(repository)
        #expect(try await audit.attempts().map(\.outcome) == [.gateFailed])
        #expect(audit.mission.stopReason == .stepLimit)
        #expect(audit.mission.pauseAfterAttempts == nil, "the allowance ends with the run")
        let stepped = try await audit.events().filter { $0.kind == .missionStepped }
        #expect(stepped.map { $0.data["pause_after_attempts"] } == [.number(1)])

        let second = try await FlotillaBinary.run(["step", id], in: repository.path)
        #expect(second.exitCode == 0, "\(second.standardError)")
        audit = try await MissionAudit(repository)
        #expect(try await audit.attempts().map(\.outcome) == [.gateFailed, .landed])
        #expect(audit.mission.state == .completed)

        let again = try await FlotillaBinary.run(["step", id], in: repository.path)
        #expect(again.exitCode == 2 && again.standardError.contains("cannot go on"), "\(again.standardError)")
        let bad = try await FlotillaBinary.run(["step", id, "--attempts", "0"], in: repository.path)
        #expect(bad.exitCode == 2 && bad.standardError.contains("--attempts"), "\(bad.standardError)")
    }

    @Test func throughADaemonAStepIsTheAPIsItsProcessKeepsTheLimitAndMetricsShowTheFigure() async throws {
        let repository = try await TypedCriteriaTests.project(TypedCriteriaTests.fast)
        defer { repository.directory.remove() }
        let (id, scratch) = try await Self.created(repository, TypedCriteriaTests.steps(300))
        defer { scratch.remove() }
        let daemon = try await RunningDaemon([], in: repository.path)
        let stepped = try await FlotillaBinary.run(["step", id, "--attempts", "2"], in: repository.path)
        #expect(stepped.exitCode == 4, "\(stepped.standardError)")
        let audit = try await MissionAudit(repository)
        #expect(try await audit.attempts().map(\.outcome) == [.gateFailed, .gateFailed])
        #expect(audit.mission.stopReason == .stepLimit)
        let routes = try Prometheus.parse(try await daemon.client().send("GET", "/metrics").text)
        #expect(routes.value("flotilla_http_requests_total", ["route": "/missions/{id}/step", "status": "200"]) == 1)
        // Its criterion's last figure and target, as the probes measured them.
        let labels = ["mission": id, "group": "fast", "criterion": "steps"]
        #expect(routes.value("flotilla_criterion_value", labels) == 300)
        #expect(routes.value("flotilla_criterion_target", labels) == 100)
        #expect(await daemon.stop() == 0)
    }

    @Test func aTerminatedMissionIsNeverResumed() async throws {
        let repository = try await TypedCriteriaTests.project(TypedCriteriaTests.fast)
        defer { repository.directory.remove() }
        let (id, scratch) = try await Self.created(repository, TypedCriteriaTests.steps(80))
        defer { scratch.remove() }
        let stopped = try await FlotillaBinary.run(["stop", id, "--terminate"], in: repository.path)
        #expect(stopped.exitCode == 0, "\(stopped.standardError)")
        #expect(stopped.standardOutput.contains("\(id) stopped (terminated)"), "\(stopped.standardOutput)")
        for command in [["resume", id], ["step", id], ["resume", id, "--detach"]] {
            let refused = try await FlotillaBinary.run(command, in: repository.path)
            #expect(refused.exitCode == 2, "\(command): \(refused.standardError)")
            #expect(refused.standardError.contains("terminated"), "\(command): \(refused.standardError)")
        }
        let audit = try await MissionAudit(repository)
        #expect(try await audit.attempts().isEmpty)
        #expect(audit.mission.stopReason == .terminated)
    }

    @Test func aMissionDeclaredCompleteWaivesWhatDidNotLand() async throws {
        let checklist = TypedCriteriaTests.fast + "## Notes {#notes}\n- [ ] notes.txt exists\n"
        let repository = try await TypedCriteriaTests.project(checklist)
        defer { repository.directory.remove() }
        // The notes land; the work never gets fast enough, and the attempt budget stops the mission.
        let script = """
            case "$FLOTILLA_GROUP" in
            notes) echo notes > notes.txt ;;
            *) \(TypedCriteriaTests.steps(300)) ;;
            esac
            """
        let (id, scratch) = try await Self.created(
            repository,
            script,
            arguments: ["--agents", "2", "--max-attempts", "2"]
        )
        defer { scratch.remove() }
        let ran = try await FlotillaBinary.run(["resume", id], in: repository.path)
        #expect(ran.exitCode == 5, "\(ran.standardError)")

        let missing = try await FlotillaBinary.run(["stop", id, "--complete"], in: repository.path)
        #expect(missing.exitCode == 2 && missing.standardError.contains("--reason"), "\(missing.standardError)")
        let declared = try await FlotillaBinary.run(
            ["stop", id, "--complete", "--reason", "300 steps is fast enough for now"],
            in: repository.path
        )
        #expect(declared.exitCode == 0, "\(declared.standardError)")
        let status = try await Self.status(id, in: repository)
        #expect(status["state"] as? String == "completed")
        #expect(status["stop_reason"] as? String == "forced_complete")
        let groups = try #require(status["groups"] as? [[String: Any]])
        let states = Dictionary(
            uniqueKeysWithValues: groups.compactMap { group in
                (group["id"] as? String).map { ($0, group["status"] as? String ?? "") }
            }
        )
        #expect(states == ["fast": "waived", "notes": "done"])
        let audit = try await MissionAudit(repository)
        let finished = try await audit.events().last { $0.kind == .missionFinished }
        #expect(finished?.message.contains("300 steps is fast enough for now") == true, "\(finished?.message ?? "")")
        let report = try await FlotillaBinary.run(["report", id], in: repository.path)
        #expect(report.standardOutput.contains("**completed** (forced_complete)"), "\(report.standardOutput)")
        #expect(report.standardOutput.contains("300 steps is fast enough for now"), "\(report.standardOutput)")
        #expect(report.standardOutput.contains("| waived |"), "\(report.standardOutput)")
        let again = try await FlotillaBinary.run(["stop", id, "--terminate"], in: repository.path)
        #expect(again.exitCode == 2, "\(again.standardError)")
    }
}
