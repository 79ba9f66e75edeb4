import ArgumentParser
import FlotillaAPI
import FlotillaService

extension Flotilla {
    struct MissionApprove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "approve",
            abstract: "Say yes to what a mission waits for a human about, or release its blocked groups.",
            discussion: """
                What waits, `flotilla status ID` shows: a verified landing (--approve landings), the finished \
                mission or the objective check's proposed groups (--approve final), or groups blocked because their \
                attempts kept failing without progress. Approving lets a landing land, completes the mission or adds \
                the proposed groups; for blocked groups, fix what the attempts could not (see `flotilla history ID`) \
                first: their stall counts start over and the mission resumes in the background. Either way the \
                mission is followed here unless --detach. `flotilla reject` says no, with a reason.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Option(
            name: .customLong("group"),
            help: "Only this group's landing or block (repeatable); default: everything that waits."
        )
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
