import ArgumentParser
import FlotillaAPI
import FlotillaCore
import FlotillaService
import Foundation

extension Flotilla {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Write a mission's report: summary, groups with their evidence, DAG, timeline, cost, failures.",
            discussion: """
                Markdown (for a pull request or a CI job summary; its diagrams are Mermaid) or one self-contained \
                HTML file (inline SVG, no script, no external reference: it opens from disk). Works on a running \
                mission too. Default: the latest mission, Markdown, to stdout.
                """
        )

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case md, html
        }

        @OptionGroup var repository: RepositoryOption

        @Argument(help: "The mission id (m-xxxxxxxx; default: the latest mission).")
        var id: String?

        @Option(help: "md or html (default: html when --output-file ends in .html, else md).")
        var format: Format?

        @Option(name: [.customShort("o"), .customLong("output-file")], help: "Write to this file instead of stdout.")
        var outputFile: String?

        func run() async throws {
            let access = try await MissionAccess.open(repo: repository.repo)
            let mission = try await access.mission(id)
            guard let missionID = MissionID(mission.id) else { throw FlotillaError(.internal, "bad id \(mission.id)") }
            let history = try await access.service.attempts(missionID)
            let events = try await access.service.allEvents(missionID)
            let report = MissionReport(mission: mission, attempts: history.attempts, events: events)
            let html = (format ?? (outputFile?.lowercased().hasSuffix(".html") == true ? .html : .md)) == .html
            let text = html ? report.html : report.markdown
            guard let outputFile else { return Console.out(text) }
            do {
                try text.write(toFile: outputFile, atomically: true, encoding: .utf8)
            } catch {
                throw FlotillaError.invalid(
                    "--output-file \(outputFile): cannot write it (\(error.localizedDescription))"
                )
            }
            Console.err("wrote \(outputFile) (\(html ? "HTML" : "Markdown"), \(text.utf8.count) bytes)")
        }
    }
}
