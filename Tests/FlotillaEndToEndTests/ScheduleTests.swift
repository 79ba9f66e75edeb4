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
}
