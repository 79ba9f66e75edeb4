import ArgumentParser
import FlotillaAPI
import FlotillaCore
import FlotillaService

extension Flotilla {
    struct MissionList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the missions of this repository, newest first."
        )

        @OptionGroup var global: GlobalOptions

        @Option(
            help: ArgumentHelp(
                "Only the missions in this state.",
                valueName: MissionDTO.states.joined(separator: "|")
            )
        )
        var state: String?

        func validate() throws {
            let states = MissionDTO.states
            if let state, !states.contains(state) {
                throw ValidationError("--state must be one of \(states.joined(separator: ", ")), not \(state)")
            }
        }

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let missions = try await access.service.missions(in: [access.root]).filter { mission in
                state == nil || mission.state == state
            }
            switch global.output {
            case .json: Console.json(missions)
            case .table:
                let none = state.map { "No \($0) missions." } ?? "No missions yet."
                Console.out(missions.isEmpty ? none : MissionReports.list(missions))
            }
        }
    }
}
