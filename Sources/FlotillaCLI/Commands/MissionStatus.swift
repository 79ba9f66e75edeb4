import ArgumentParser
import FlotillaAPI
import FlotillaService

extension Flotilla {
    struct MissionStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show a mission's state, groups and costs (default: the latest mission).",
            discussion: "A mission whose process died without finishing it shows as crashed; `resume` continues it."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String?

        func run() async throws {
            let mission = try await MissionAccess.open(repo: global.repo).mission(id)
            switch global.output {
            case .json: Console.json(mission)
            case .table: Console.out(MissionReports.status(mission))
            }
        }
    }
}
