import ArgumentParser
import FlotillaAPI
import FlotillaCore
import FlotillaService
import Foundation

extension Flotilla {
    struct MissionCheck: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Verify a mission's target (or a commit) again and judge its typed criteria.",
            discussion: """
                Runs the mission's verify command and its probes on the target branch's head (or --commit REF), in a \
                checkout of its own, confined like the gate, and prints each typed criterion (Metric:, Event:, \
                Predicate:) with its figure, its target and whether it is met. With --group it checks those groups \
                (their probes that run at landings); without, everything, as the final verify does. Nothing of the \
                mission changes but one criteria.checked event; it works on a running or a finished mission. \
                Exit status 0 when the verify passed and every required criterion is met, 1 otherwise.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Option(help: "A group to check (repeatable); all groups when absent.")
        var group: [String] = []

        @Option(help: "The commit or branch to check; the mission's target branch by default.")
        var commit: String?

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let mission = try MissionAccess.id(id)
            Console.err("checking \(id) on \(commit ?? "its target branch")…")
            let check = try await access.service.check(mission, groups: group, commit: commit)
            switch global.output {
            case .json: Console.json(check)
            case .table: Console.out(Self.render(check))
            }
            if !check.passed { throw MissionExit(code: 1) }
        }

        static func render(_ check: CheckDTO) -> String {
            var lines = [
                "Check of \(check.mission) at \(check.commit.shortSHA): "
                    + (check.passed ? "passed" : "failed" + (check.reason.map { " — \($0)" } ?? ""))
            ]
            if check.exitCode != 0 {
                lines.append("The verify failed (exit \(check.exitCode.map(String.init) ?? "none")):")
                lines.append(check.outputTail.split(separator: "\n").suffix(10).joined(separator: "\n"))
            }
            let rows = check.criteria.map { result -> [String] in
                [
                    "\(result.group).\(result.id)" + (result.required ? "" : " (optional)"), result.status.rawValue,
                    result.value.map(CriteriaCascade.format) ?? "", result.target.map(CriteriaCascade.format) ?? "",
                    String(result.evidence.prefix(80)),
                ]
            }
            if !rows.isEmpty {
                lines.append("")
                lines.append(
                    TextTable(headers: ["CRITERION", "STATUS", "VALUE", "TARGET", "EVIDENCE"], rows: rows).render()
                )
            }
            return lines.joined(separator: "\n")
        }
    }
}
