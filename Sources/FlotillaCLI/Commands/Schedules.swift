import ArgumentParser
import FlotillaCore
import FlotillaService
import Foundation

extension Flotilla {
    struct Schedules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schedule",
            abstract: "The repository's schedules: missions that `flotilla serve` starts on a clock.",
            discussion: """
                A schedule is a [schedule.NAME] table of the repository's flotilla.toml: cron = "0 3 * * 1-5" (five \
                fields, on UTC unless tz = "Europe/Paris") or every = "15m", any mission fields (goal, acceptance_path, \
                agent…), overlap = "skip" or "queue" (what a slot does while the last mission still runs), \
                catch_up = "none" or "one" (what a daemon that was down does about the slots it missed), enabled.
                """,
            subcommands: [ScheduleList.self, ScheduleNext.self]
        )

        /// The repository's schedules, by name.
        static func load(repo: String?) async throws -> [String: Schedule] {
            let composition = Composition()
            let root = try await composition.repositoryRoot(repo)
            return try Configuration.load(root: root, environment: composition.environment).schedules
        }

        /// An instant as people read it on the schedule's clock, with its UTC form.
        static func describe(_ date: Date, on schedule: Schedule) -> String {
            let utc = ISO8601DateFormatter()
            guard case .cron(_, let zone) = schedule.trigger, zone.identifier != "UTC" else {
                return utc.string(from: date)
            }
            let local = ISO8601DateFormatter()
            local.timeZone = zone
            return "\(local.string(from: date)) (\(utc.string(from: date)))"
        }
    }
}
