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

        @Option(help: "Only the missions carrying this tag (repeatable: every one given).")
        var tag: [String] = []

        @Option(help: ArgumentHelp("Only the missions that came this way.", valueName: "cli|api|webhook|mcp"))
        var source: String?

        func validate() throws {
            let states = MissionDTO.states
            if let state, !states.contains(state) {
                throw ValidationError("--state must be one of \(states.joined(separator: ", ")), not \(state)")
            }
        }

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let missions = try await access.service.missions(in: [access.root]).filter { mission in
                mission.matches(state: state, tags: tag, source: source)
            }
            switch global.output {
            case .json: Console.json(missions)
            case .table:
                let none =
                    !tag.isEmpty || source != nil
                    ? "No missions match." : state.map { "No \($0) missions." } ?? "No missions yet."
                Console.out(missions.isEmpty ? none : MissionReports.list(missions))
            }
        }
    }
}
