import ArgumentParser
import FlotillaCore
import FlotillaService
import Foundation

extension Flotilla {
    struct Collect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove the files of missions that ended long ago; their ledger rows stay.",
            discussion: """
                Removes .flotilla/missions/ID (prompts, transcripts, patches, gate logs, events.jsonl) and any \
                leftover checkouts of each mission that ended more than --older-than ago. The ledger keeps every \
                mission, attempt, verdict and event, so `list`, `status`, `history` and `report` still answer, and \
                target branches stay. A mission that runs, waits to start or waits in a queue is never touched.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(
            help: ArgumentHelp(
                "How long ago a mission must have ended: a number and a unit, s, m, h, d or w.",
                valueName: "7d"
            ),
            transform: { text in
                guard let age = Duration.seconds(spelled: text) else {
                    throw ValidationError(
                        "--older-than must be a number and a unit (s, m, h, d, w), like 7d, not \(text)"
                    )
                }
                return age
            }
        )
        var olderThan: Double

        @Flag(help: "Show what would be removed, remove nothing.")
        var dryRun = false

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let collected = try await access.repository.collect(
                endedBefore: Date().addingTimeInterval(-olderThan),
                dryRun: dryRun
            )
            switch global.output {
            case .json: Console.json(Report(dryRun: dryRun, missions: collected))
            case .table:
                let bytes = collected.reduce(Int64(0)) { $0 + $1.bytes }
                let verb = dryRun ? "would remove" : "removed"
                Console.out(
                    collected.isEmpty
                        ? "No mission ended more than \(Duration.seconds(bounded: olderThan).shortDescription) ago "
                            + "has files left."
                        : collected.map { "\($0.id) \($0.state) \(Collect.megabytes($0.bytes))" }.joined(
                            separator: "\n"
                        )
                            + "\n\(verb) the files of \(collected.count) mission\(collected.count == 1 ? "" : "s"), "
                            + "\(Collect.megabytes(bytes)); their ledger rows stay"
                )
            }
        }

        /// What `--output json` prints.
        struct Report: Encodable {
            var dryRun: Bool
            var missions: [CollectedMission]

            enum CodingKeys: String, CodingKey {
                case missions
                case dryRun = "dry_run"
            }
        }

        static func megabytes(_ bytes: Int64) -> String {
            let megabytes = (Double(bytes) / 100_000).rounded() / 10
            return "\(megabytes) MB"
        }
    }
}
