import ArgumentParser
import FlotillaAPI
import FlotillaService

extension Flotilla {
    struct MissionStep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "step",
            abstract: "Run a stopped or not yet started mission for a few more attempts, then pause it.",
            discussion: """
                Continues the mission as `resume` does, but once N more attempts have started it starts no more: \
                those running finish (and land if they pass), then the mission stops with reason step_limit and \
                exit status 4. Step again, or `resume` to go on without a limit. Made for watching a mission one \
                attempt at a time, e.g. after `flotilla run --no-start`. A mission that completes or trips a \
                breaker within the step ends as it would have.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Option(help: "How many more attempts may start before the mission pauses (1–1000).")
        var attempts = 1

        @Flag(help: "Continue in the background and print the mission id.")
        var detach = false

        func validate() throws {
            guard (1...1000).contains(attempts) else { throw ValidationError("--attempts must be between 1 and 1000") }
        }

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let mission = try MissionAccess.id(id)
            let following = MissionFollowing(output: global.output, composition: access.composition)
            if !detach && !access.isServedByDaemon {
                let repository = access.repository
                try await repository.allowStep(try await repository.requireRecord(mission), attempts: attempts)
                let code = try await following.runHere(repository, mission)
                if code != 0 { throw MissionExit(code: code) }
                return
            }
            let stepped = try await access.service.step(mission, attempts: attempts)
            try await Continuation(output: global.output, detach: detach, following: following)
                .finish(access.service, stepped)
        }
    }
}
