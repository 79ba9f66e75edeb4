import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

/// `flotilla schedule` through the built binary, on a repository whose flotilla.toml holds schedules.
@Suite("Schedules: flotilla schedule list and next", .tags(.large), .timeLimit(.minutes(5)))
struct ScheduleTests {
    static let schedules = """
        [schedule.weekdays]
        cron = "0 9 * * 1-5"
        tz = "Europe/Paris"
        goal = "Refresh the dependencies"
        overlap = "queue"

        [schedule.tick]
        every = "15m"
        catch_up = "one"
        enabled = false

        """

    @Test func aWeekdayCronSkipsTheWeekendOnItsOwnClock() async throws {
        let repository = try await FixtureRepository(files: ["flotilla.toml": Self.schedules])
        defer { repository.directory.remove() }
        // From Friday 11 December 2026, 17:00 UTC: Monday and Tuesday at 09:00 in Paris (08:00 UTC, winter time).
        let next = try await FlotillaBinary.run(
            ["schedule", "next", "weekdays", "--from", "2026-12-11T17:00:00Z", "--count", "2", "--output", "json"],
            in: repository.path
        )
        #expect(next.exitCode == 0, "\(next.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(next.standardOutput.utf8)) as? [String: Any]
        #expect(object?["slots"] as? [String] == ["2026-12-14T08:00:00Z", "2026-12-15T08:00:00Z"])
        let table = try await FlotillaBinary.run(
            ["schedule", "next", "weekdays", "--from", "2026-12-11T17:00:00Z", "--count", "1"],
            in: repository.path
        )
        #expect(
            table.standardOutput.contains("2026-12-14T09:00:00+01:00 (2026-12-14T08:00:00Z)"),
            "\(table.standardOutput)"
        )

        let list = try await FlotillaBinary.run(["schedule", "list"], in: repository.path)
        #expect(list.exitCode == 0, "\(list.standardError)")
        #expect(list.standardOutput.contains("cron \"0 9 * * 1-5\" (Europe/Paris)"), "\(list.standardOutput)")
        #expect(list.standardOutput.contains("every 15m "), "\(list.standardOutput)")

        let unknown = try await FlotillaBinary.run(["schedule", "next", "nightly"], in: repository.path)
        #expect(
            unknown.exitCode == 2 && unknown.standardError.contains("(it has tick, weekdays)"),
            "\(unknown.standardError)"
        )
        let badFrom = try await FlotillaBinary.run(
            ["schedule", "next", "tick", "--from", "friday"],
            in: repository.path
        )
        #expect(badFrom.exitCode == 2 && badFrom.standardError.contains("--from must be an ISO 8601 instant"))
    }

    @Test func aBadScheduleIsOneLineNamingItsLine() async throws {
        let repository = try await FixtureRepository(
            files: ["flotilla.toml": "[schedule.nightly]\ncron = \"0 3 * * 1-5\"\nagents = 0\n"]
        )
        defer { repository.directory.remove() }
        let outcome = try await FlotillaBinary.run(["schedule", "list"], in: repository.path)
        #expect(outcome.exitCode == 2)
        #expect(
            outcome.standardError.contains("flotilla.toml:3: schedule.nightly.agents must be between 1 and 64"),
            "\(outcome.standardError)"
        )
        #expect(outcome.standardError.split(separator: "\n").count == 1, "\(outcome.standardError)")
    }

    @Test func anIntervalScheduleFiresUnderServeSkipsWhileItsMissionRunsAndNoSlotFiresTwiceAcrossARestart()
        async throws
    {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        // The first mission's agent says it runs, then waits on the pipe until the test lets it go; the second waits
        // on another pipe, so that no third starts before the test is done; later ones do not wait.
        let started = try FIFOSignal(in: fixture.scratch)
        let release = try FIFOWriter(in: fixture.scratch)
        let releaseSecond = try FIFOWriter(in: fixture.scratch, name: "second.fifo")
        let marker = fixture.scratch.file("first-ran")
        let secondMarker = fixture.scratch.file("second-ran")
        let agent = try fixture.scratch.write(
            "agent.sh",
            """
            #!/bin/sh
            if [ ! -e \(marker) ]; then
                touch \(marker)
                echo started > \(started.path)
                read line < \(release.path)
            elif [ ! -e \(secondMarker) ]; then
                touch \(secondMarker)
                read line < \(releaseSecond.path)
            fi
            echo 'a ok' > a.txt

            """,
            executable: true
        )
        try fixture.repository.write(
            "flotilla.toml",
            """
            [schedule.tick]
            every = "2s"
            verify = "./verify.sh"
            agent_command = "sh \(agent)"
            sandbox_write = ["\(fixture.scratch.path)"]

            """
        )
        _ = try await fixture.repository.commitAll("a schedule")
        var daemon = try await RunningDaemon(["--check-interval", "0.1"], in: fixture.repository.path)
        // A slot starts the first mission; while its agent waits, the next two slots are skipped.
        #expect(await started.firstLine() == "started")
        #expect(await daemon.waitForLog("skipped: its last mission", count: 2), "\(daemon.errorOutput)")
        #expect(await daemon.stop() == 0)

        // Another daemon goes on from the ledger: the mission still runs, so its slots are skipped too, until the
        // agent is let go and the next slot starts the second mission.
        daemon = try await RunningDaemon(["--check-interval", "0.1"], in: fixture.repository.path)
        #expect(await daemon.waitForLog("skipped", count: 1), "\(daemon.errorOutput)")
        try await release.send("go")
        #expect(await daemon.waitForLog("started m-", count: 1), "\(daemon.errorOutput)")
        #expect(await daemon.stop() == 0)
        // The second mission ends once let go (its own process: the daemon is gone).
        let second = try #require(
            try await MissionAudit(fixture.repository).ledger.scheduleSlots("tick", limit: 1000)
                .first { $0.outcome == .started }?.mission
        )
        try await releaseSecond.send("go")
        let attached = try await FlotillaBinary.run(["attach", second.rawValue], in: fixture.repository.path)
        #expect(attached.exitCode == 0, "\(attached.standardOutput)\(attached.standardError)")

        let ledger = try await MissionAudit(fixture.repository).ledger
        let slots = try await ledger.scheduleSlots("tick", limit: 1000)
        // Each slot once: the ledger's key is the schedule and the slot, and no two rows share a time.
        #expect(Set(slots.map(\.slot)).count == slots.count)
        let startedSlots = slots.filter { $0.outcome == .started }
        #expect(startedSlots.count == 2, "\(slots.map { "\($0.slot) \($0.outcome)" })")
        #expect(slots.filter { $0.outcome == .skipped }.count >= 3)
        #expect(slots.allSatisfy { $0.outcome != .firing && $0.outcome != .failed }, "\(slots.map(\.reason))")
        // Every slot is on the two-second grid.
        #expect(slots.allSatisfy { $0.slot.timeIntervalSince1970.truncatingRemainder(dividingBy: 2) == 0 })
        let list = try await FlotillaBinary.run(
            ["list", "--source", "schedule:tick", "--output", "json"],
            in: fixture.repository.path
        )
        for slot in startedSlots {
            #expect(list.standardOutput.contains(try #require(slot.mission).rawValue), "\(list.standardOutput)")
        }
    }
}
