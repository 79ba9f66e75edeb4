import ArgumentParser
import FlotillaAPI
import FlotillaCore
import FlotillaService

extension Flotilla {
    struct MissionResume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume",
            abstract: "Continue a stopped or crashed mission, repairing what a crash left behind.",
            discussion: """
                Ends processes the last run left running, removes its checkouts, completes or rolls back a landing \
                caught half-way, interrupts attempts caught running and keeps those waiting to land, then carries on. \
                Time spent stopped does not count against --timeout. Through a daemon, the daemon runs it.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Flag(help: "Continue in the background and print the mission id.")
        var detach = false

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let mission = try MissionAccess.id(id)
            let following = MissionFollowing(output: global.output, composition: access.composition)
            // Here, with no daemon: in this process, as `run` does (a completed mission tidies what a crash left).
            if !detach && !access.isServedByDaemon {
                let code = try await following.runHere(access.repository, mission)
                if code != 0 { throw MissionExit(code: code) }
                return
            }
            let resumed = try await access.service.resume(mission)
            try await Continuation(output: global.output, detach: detach, following: following)
                .finish(access.service, resumed)
        }
    }
}

/// After a mission was started in the background (resume, approve): print its id, or follow it to its end.
struct Continuation {
    let output: OutputFormat
    let detach: Bool
    let following: MissionFollowing

    func finish(_ service: any MissionService, _ mission: MissionDTO) async throws {
        if detach {
            switch output {
            case .json: Console.json(["id": mission.id])
            case .table:
                Console.out(mission.id)
                Console.err("running in the background; follow it with `flotilla attach \(mission.id)`")
            }
            return
        }
        let code = try await following.follow(service, mission)
        if code != 0 { throw MissionExit(code: code) }
    }
}
