import ArgumentParser
import FlotillaAPI
import FlotillaService

extension Flotilla {
    struct MissionHistory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract:
                "Show every attempt of a mission (backend, outcome, cost, time, commit), its planner and critic calls, and "
                + "its notifications."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Flag(help: "Also each attempt's typed criteria: the figure its gate measured, the target and the verdict.")
        var full = false

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let history = try await access.service.attempts(try MissionAccess.id(id))
            switch global.output {
            case .json: Console.json(history)
            case .table:
                Console.out(history.attempts.isEmpty ? "No attempts yet." : MissionReports.history(history.attempts))
                if full { Console.out(MissionReports.criteria(history.attempts)) }
                if let calls = history.modelCalls, !calls.isEmpty {
                    Console.out("\n" + MissionReports.modelCalls(calls))
                }
                if let notifications = history.notifications, !notifications.isEmpty {
                    Console.out("\n" + MissionReports.notifications(notifications))
                }
            }
        }
    }
}
