import ArgumentParser
import FlotillaAPI
import FlotillaEngine
import FlotillaService

extension Flotilla {
    struct MissionApprove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "approve",
            abstract: "Release a mission waiting for a human: blocked groups may be attempted again, then it resumes.",
            discussion: """
                A group is blocked when its attempts kept failing without progress; its dependents are blocked with \
                it. Fix what the attempts could not (see `flotilla history ID`), then approve: the groups' stall \
                counts start over and the mission resumes in the background, followed here unless --detach.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Option(name: .customLong("group"), help: "Release only this group (repeatable); default: every blocked group.")
        var groups: [String] = []

        @Flag(help: "Resume in the background and print the mission id.")
        var detach = false

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let approval = try await access.service.approve(try MissionAccess.id(id), groups: groups)
            Console.err(
                approval.released.isEmpty
                    ? "mission \(id) has no blocked group to approve"
                    : "approved: \(approval.released.joined(separator: ", "))"
            )
            let following = MissionFollowing(output: global.output, composition: access.composition)
            try await Continuation(output: global.output, detach: detach, following: following)
                .finish(access.service, approval.mission)
        }
    }
}
