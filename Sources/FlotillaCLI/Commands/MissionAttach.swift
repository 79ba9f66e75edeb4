import ArgumentParser
import FlotillaAPI
import FlotillaService

extension Flotilla {
    struct MissionAttach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attach",
            abstract: "Follow a running mission until it ends; Ctrl-C detaches and leaves it running.",
            discussion: "Exits with the mission's own exit status when it ends."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx); default: the latest mission.")
        var id: String?

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let mission = try await access.mission(id)
            let code = try await MissionFollowing(output: global.output, composition: access.composition)
                .follow(access.service, mission)
            if code != 0 { throw MissionExit(code: code) }
        }
    }
}
