import ArgumentParser
import FlotillaAPI
import FlotillaService

extension Flotilla {
    struct MissionList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the missions of this repository, newest first."
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let missions = try await access.service.missions(in: [access.root])
            switch global.output {
            case .json: Console.json(missions)
            case .table: Console.out(missions.isEmpty ? "No missions yet." : MissionReports.list(missions))
            }
        }
    }
}
