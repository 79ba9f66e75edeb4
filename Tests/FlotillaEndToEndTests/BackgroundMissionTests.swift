import FlotillaCore
import FlotillaStore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Background missions: run --detach, attach, stop, resume", .tags(.large), .timeLimit(.minutes(10)))
struct BackgroundMissionTests {
    @Test func aDetachedMissionIsFollowedStoppedAndResumed() async throws {
        let fixture = try await MissionFixture(
            checklist: "# T\n\n## A\n- [ ] a\n\n## B\n- [ ] b\n",
            groups: ["a", "b"]
        )
        defer { fixture.remove() }
        let ready = try FIFOSignal(in: fixture.scratch)
        let release = try FIFOWriter(in: fixture.scratch)
        let resumedRunning = try FIFOSignal(in: fixture.scratch, name: "resumed.fifo")
        // a's first attempt hangs (with a child) until stopped; its second waits until the test releases it.
        let agent = try fixture.scratch.write(
            "agent.sh",
            """
            #!/bin/sh
            if [ "$FLOTILLA_GROUP" = a ] && [ "$FLOTILLA_ATTEMPT" = 1 ]; then
                sleep 600 &
                echo started > \(ready.path)
                wait
            fi
            if [ "$FLOTILLA_GROUP" = a ]; then
                echo resumed > \(resumedRunning.path)
                read line < \(release.path)
            fi
            echo "$FLOTILLA_GROUP ok" > "$FLOTILLA_GROUP.txt"

            """,
            executable: true
        )
        let repository = fixture.repository.path
        let detached = try await FlotillaBinary.run(
            [
                "run", "--sandbox-write", fixture.scratch.path, "--verify", "./verify.sh", "--agent-command",
                "sh \(agent)", "--detach", "--output", "json",
            ],
            in: repository
        )
        #expect(detached.exitCode == 0, "\(detached.standardError)")
        let started = try #require(
            try JSONSerialization.jsonObject(with: Data(detached.standardOutput.utf8)) as? [String: String]
        )
        let id = try #require(started["id"])
        #expect(await ready.firstLine() == "started")
        let audit = try await MissionAudit(fixture.repository)
        let runner = try #require(try await audit.ledger.mission(audit.id)?.runner)

        // attach follows the live mission until it ends, and exits with its status.
        let follower = try RunningFlotilla(["attach", id], in: repository)
        // stop ends it gracefully: the hung attempt is interrupted and recorded, its process group gone.
        let stop = try await FlotillaBinary.run(["stop", id, "--wait", "120"], in: repository)
        #expect(stop.exitCode == 0, "\(stop.standardError)")
        let followed = await follower.wait(timeout: .seconds(120))
        #expect(followed.exitCode == 4)
        #expect(followed.standardOutput.contains("a#1 started on agent"))
        #expect(followed.standardOutput.contains("mission stopped"))
        #expect(try await audit.ledger.mission(audit.id)?.state == .stopped)
        #expect(await LinuxProcessTable().waitForExit(runner, timeout: .seconds(60)))
        #expect(await MissionProcesses.waitUntilNoneRuns(audit.id) == [], "the agent's child outlived stop")
        #expect(try await audit.attempt("a", 1)?.outcome == .interrupted)
        #expect(try await audit.leftovers() == [])

        // resume in the background; Ctrl-C on an attach leaves the mission running.
        let resumed = try await FlotillaBinary.run(["resume", id, "--detach"], in: repository)
        #expect(resumed.exitCode == 0, "\(resumed.standardError)")
        #expect(await resumedRunning.firstLine() == "resumed")
        let interrupted = try RunningFlotilla(["attach", id], in: repository)
        interrupted.send(SIGINT)
        _ = await interrupted.wait(timeout: .seconds(120))
        let second = try #require(try await audit.ledger.mission(audit.id)?.runner)
        #expect(second != runner && LinuxProcessTable().isRunning(second), "the mission kept running after Ctrl-C")

        try await release.send("go")
        let final = try await FlotillaBinary.run(["attach", id], in: repository)
        #expect(final.exitCode == 0, "\(final.standardOutput)\(final.standardError)")
        let done = try await fixture.audit()
        #expect(done.mission.state == .completed)
        #expect(try await done.attempt("a", 2)?.outcome == .landed)
        let log = try String(contentsOfFile: done.missionDirectory + "/background.log", encoding: .utf8)
        #expect(log.contains("mission resumed"))
    }

    @Test func approveReleasesABlockedMission() async throws {
        let fixture = try await MissionFixture(
            checklist: "# T\n\n## A\n- [ ] a\n\n## B\nDepends on: a\n- [ ] b\n",
            groups: ["a", "b"]
        )
        defer { fixture.remove() }
        // The agent succeeds only once a human has left a hint in the scratch directory.
        let hint = fixture.scratch.file("hint")
        let agent = try fixture.scratch.write(
            "agent.sh",
            "#!/bin/sh\nif [ -e \(hint) ] || [ \"$FLOTILLA_GROUP\" = b ]; then echo \"$FLOTILLA_GROUP ok\" > \"$FLOTILLA_GROUP.txt\"; fi\n",
            executable: true
        )
        let repository = fixture.repository.path
        let blocked = try await fixture.run(["--agent-command", "sh \(agent)", "--stall-threshold", "1"])
        #expect(blocked.exitCode == 3)
        let id = try await MissionAudit(fixture.repository).id.rawValue
        try "use a ok".write(toFile: hint, atomically: true, encoding: .utf8)
        let approved = try await FlotillaBinary.run(["approve", id], in: repository)
        #expect(approved.exitCode == 0, "\(approved.standardOutput)\(approved.standardError)")
        #expect(approved.standardError.contains("approved: a, b"))
        let audit = try await fixture.audit()
        #expect(audit.mission.state == .completed)
        #expect(try await audit.events().contains { $0.kind == .groupsApproved })
        let notBlocked = try await FlotillaBinary.run(["approve", id, "--group", "a"], in: repository)
        #expect(notBlocked.exitCode == 2 && notBlocked.standardError.contains("is not blocked"))
    }
}
