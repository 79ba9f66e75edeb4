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

                --terminate ends the mission for good: `resume` and `step` refuse it. --complete --reason TEXT \
                declares it complete although not every group landed: the groups that did not are shown as waived, \
                and the reason is kept in its log and report. Both also apply to a mission that is not running \
                (stopped, blocked, or created with `run --no-start`).
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Option(help: "Seconds to wait for a graceful stop before killing the mission's process.")
        var wait: Double = 60

        @Flag(help: "End the mission for good: it can never be resumed.")
        var terminate = false

        @Flag(help: "Declare the mission complete (needs --reason): groups not landed are waived.")
        var complete = false

        @Option(help: "Why the mission is declared complete (with --complete).")
        var reason: String?

        func validate() throws {
            guard (0...3600).contains(wait) else { throw ValidationError("--wait must be between 0 and 3600") }
            if terminate && complete { throw ValidationError("--terminate and --complete exclude each other") }
            if reason != nil && !complete { throw ValidationError("--reason goes with --complete") }
            if complete && (reason ?? "").allSatisfy(\.isWhitespace) {
                throw ValidationError("--complete needs --reason TEXT: why the mission is done although groups are not")
            }
        }

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let mission = try MissionAccess.id(id)
            let end = try MissionEnd(named: complete ? "complete" : terminate ? "terminate" : "pause", reason: reason)
            Console.err("stopping \(mission): waiting up to \(Int(wait)) s for a graceful stop…")
            let stopped = try await access.service.stop(mission, wait: .seconds(wait), end: end)
            switch global.output {
            case .json: Console.json(stopped)
            case .table:
                let reason = stopped.stopReason.flatMap { $0 == stopped.state ? nil : " (\($0))" } ?? ""
                Console.out("mission \(stopped.id) \(stopped.state)\(reason)")
            }
        }
    }
}
