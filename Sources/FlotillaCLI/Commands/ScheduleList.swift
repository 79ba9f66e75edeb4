import ArgumentParser
import FlotillaCore
import Foundation

extension Flotilla {
    struct ScheduleList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the schedules of flotilla.toml with their next slot."
        )

        @OptionGroup var global: GlobalOptions

        /// What `--output json` prints for each schedule.
        struct Row: Encodable {
            var name: String
            var trigger: String
            var next: Date?
            var overlap: String
            var catchUp: String
            var enabled: Bool

            enum CodingKeys: String, CodingKey {
                case name, trigger, next, overlap, enabled
                case catchUp = "catch_up"
            }
        }

        func run() async throws {
            let schedules = try await Schedules.load(repo: global.repo).values.sorted { $0.name < $1.name }
            let now = Date()
            let rows = schedules.map { schedule in
                Row(
                    name: schedule.name,
                    trigger: schedule.triggerDescription,
                    next: schedule.next(after: now),
                    overlap: schedule.overlap.rawValue,
                    catchUp: schedule.catchUp.rawValue,
                    enabled: schedule.enabled
                )
            }
            switch global.output {
            case .json: Console.json(rows)
            case .table:
                guard !schedules.isEmpty else {
                    return Console.out(
                        "No schedules: add a [schedule.NAME] table to flotilla.toml (flotilla schedule --help)."
                    )
                }
                Console.out(
                    TextTable(
                        headers: ["SCHEDULE", "TRIGGER", "NEXT", "OVERLAP", "CATCH-UP", "ENABLED"],
                        rows: zip(schedules, rows).map { schedule, row in
                            [
                                row.name, row.trigger, row.next.map { Schedules.describe($0, on: schedule) } ?? "never",
                                row.overlap, row.catchUp, row.enabled ? "yes" : "no",
                            ]
                        }
                    ).render()
                )
            }
        }
    }
}
