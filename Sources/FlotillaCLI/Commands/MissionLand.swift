import ArgumentParser
import FlotillaAPI
import FlotillaCore
import FlotillaService
import Foundation

extension Flotilla {
    struct MissionLand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "land",
            abstract: "Hand a completed mission's verified result over: onto your branch, or as a pull request.",
            discussion: """
                --onto BRANCH fast-forwards BRANCH to the result, or merges the result into it when BRANCH moved \
                since the mission started. Either way the verify command runs on exactly the commit BRANCH will \
                point at, and BRANCH moves only if it passes and nobody moved BRANCH meanwhile; a conflict or a \
                failed verify changes nothing. If BRANCH is checked out, its working tree must be clean and follows.

                --open-pr opens a pull request from the mission's target branch (pushed with --push REMOTE) \
                against --onto (default main), with the mission's report as its body, using GitHub's gh.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Option(help: "The local branch to land on, or the pull request's base with --open-pr.")
        var onto: String?

        @Flag(help: "Open a pull request with gh instead of landing locally.")
        var openPR = false

        func validate() throws {
            if !openPR && onto == nil {
                throw ValidationError("say where: --onto BRANCH, or --open-pr [--onto BASE]")
            }
        }

        func run() async throws {
            let access = try await MissionAccess.open(repo: global.repo)
            let mission = try MissionAccess.id(id)
            guard openPR else {
                let landing = try await access.service.land(mission, onto: onto ?? "")
                switch global.output {
                case .json: Console.json(landing)
                case .table:
                    Console.out(
                        landing.how == "already"
                            ? "\(landing.branch) already holds the result of \(id)"
                            : "landed \(id) on \(landing.branch) (\(landing.how), verified): "
                                + "\(landing.from.prefix(7)) → \((landing.commit ?? "").prefix(7))"
                    )
                }
                return
            }
            let dto = try await access.mission(id)
            let events = try await access.service.allEvents(mission)
            guard dto.state == "completed" else {
                throw FlotillaError.conflict("mission \(id) is \(dto.state); only a completed mission is handed off")
            }
            guard events.contains(where: { $0.kind == EventKind.branchPushed.rawValue }) else {
                throw FlotillaError.invalid(
                    "\(dto.targetBranch) is on no remote: run the mission with --push REMOTE, then --open-pr"
                )
            }
            let history = try await access.service.attempts(mission)
            let report = MissionReport(mission: dto, attempts: history.attempts, events: events)
            let url = try await PullRequests(composition: access.composition)
                .open(in: dto.repository, mission: dto, base: onto ?? "main", body: report.markdown)
            Console.out(url)
        }
    }
}
