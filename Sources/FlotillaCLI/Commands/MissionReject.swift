import ArgumentParser
import FlotillaAPI
import FlotillaService

extension Flotilla {
    struct MissionReject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reject",
            abstract: "Reject work waiting for a human (--approve): a verified landing, or the finished mission.",
            discussion: """
                With --approve landings, each verified candidate waits before it lands; `flotilla status ID` lists \
                them and `flotilla history ID` (or the dashboard) shows their diff and gate output. A rejected \
                landing is not merged: the group gets another attempt, whose prompt carries your reason. With \
                --approve final, rejecting the finished mission ends it as stopped, its landed work kept on the \
                target branch.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Option(
            name: .customLong("group"),
            help: "Reject only this group's landing (repeatable); default: all waiting."
        )
        var groups: [String] = []

        @Option(help: "Why: what the next attempt should do differently (required).")
        var reason: String

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let answer = try await access.service.reject(try MissionAccess.id(id), groups: groups, reason: reason)
            switch global.output {
            case .json: Console.json(answer)
            case .table: Console.out("rejected: \(answer.released.joined(separator: ", "))")
            }
        }
    }
}
