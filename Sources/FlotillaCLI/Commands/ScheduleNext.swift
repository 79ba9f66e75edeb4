import ArgumentParser
import FlotillaCore
import Foundation

extension Flotilla {
    struct ScheduleNext: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "next",
            abstract: "The next slots of a schedule: when `flotilla serve` would start its missions.",
            discussion: """
                On the schedule's own clock (tz), with UTC beside it. A local time that does not exist that day (the \
                hour skipped when clocks go forward) is no slot; one that happens twice (when they go back) is one \
                slot, the first time.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The schedule's name ([schedule.NAME] in flotilla.toml).")
        var name: String

        @Option(
            help: ArgumentHelp("Count from this instant instead of now (ISO 8601).", valueName: "2026-12-11T17:00:00Z"),
            transform: { text in
                guard let date = ISO8601DateFormatter().date(from: text) else {
                    throw ValidationError("--from must be an ISO 8601 instant like 2026-12-11T17:00:00Z, not \(text)")
                }
                return date
            }
        )
        var from: Date?

        @Option(help: "How many slots (1 to 1000).")
        var count = 5

        func validate() throws {
            guard (1...1000).contains(count) else { throw ValidationError("--count must be between 1 and 1000") }
        }

        /// What `--output json` prints.
        struct Slots: Encodable {
            var schedule: String
            var slots: [Date]
        }

        func run() async throws {
            let schedules = try await Schedules.load(repo: global.repo)
            guard let schedule = schedules[name] else {
                let known = schedules.keys.sorted().joined(separator: ", ")
                throw FlotillaError.notFound(
                    "no schedule \(name) in flotilla.toml" + (known.isEmpty ? " (it has none)" : " (it has \(known))")
                )
            }
            let slots = schedule.slots(after: from ?? Date(), count: count)
            switch global.output {
            case .json: Console.json(Slots(schedule: name, slots: slots))
            case .table:
                Console.out(
                    slots.isEmpty
                        ? "\(name) (\(schedule.triggerDescription)) has no slot within eight years."
                        : slots.map { Schedules.describe($0, on: schedule) }.joined(separator: "\n")
                )
            }
        }
    }
}
