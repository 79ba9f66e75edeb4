import ArgumentParser
import FlotillaAPI
import FlotillaService

extension Flotilla {
    struct MissionStop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop",
            abstract: "Stop a running mission gracefully: running attempts are ended and recorded, nothing half-lands.",
            discussion: """
                Asks the mission's process to stop and waits for it (--wait). If it does not stop in time it is \
                killed, and what it left is repaired as `resume` would. Resume the mission later with \
                `flotilla resume ID`.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Option(help: "Seconds to wait for a graceful stop before killing the mission's process.")
        var wait: Double = 60

        func validate() throws {
            guard (0...3600).contains(wait) else { throw ValidationError("--wait must be between 0 and 3600") }
        }

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let mission = try MissionAccess.id(id)
            Console.err("stopping \(mission): waiting up to \(Int(wait)) s for a graceful stop…")
            let stopped = try await access.service.stop(mission, wait: .seconds(wait))
            switch global.output {
            case .json: Console.json(stopped)
            case .table: Console.out("mission \(stopped.id) \(stopped.state)")
            }
        }
    }
}
