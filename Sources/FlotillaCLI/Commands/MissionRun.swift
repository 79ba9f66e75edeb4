import ArgumentParser
import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaService
import Foundation

extension Flotilla {
    struct MissionRun: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a mission: agents work the checklist until every group is verified and landed.",
            discussion: """
                Reads the checklist (--acceptance, default ACCEPTANCE.md at the repository root), creates the \
                target branch at the base commit, and works until done or a breaker trips. Limits take -1 for \
                uncapped. On a terminal a live view shows every group and agent; otherwise each event is one line.

                Every flag is a mission field: flotilla.toml ([run], [agent], [critic]), the user's config.toml and \
                FLOTILLA_<FIELD> variables (FLOTILLA_MAX_COST_USD=5) set defaults; flags win, and lists add up.
                """
        )

        @OptionGroup var global: GlobalOptions

        @OptionGroup(title: "Mission") var mission: MissionOptions

        @OptionGroup(title: "Planning (with --goal and no checklist)") var planner: PlannerOptions

        @Flag(name: [.customShort("y"), .long], help: "Do not ask for confirmation.")
        var yes = false

        @Flag(
            help: "With -y, keep the commands the planner writes as groups' checks (dropped unless a person saw them)."
        )
        var runPlannedChecks = false

        @Flag(help: "Start the mission in the background and print its id; follow it with `flotilla attach ID`.")
        var detach = false

        @Flag(
            help: "Check and record the mission without starting it; print its id. `flotilla resume ID` starts it."
        )
        var noStart = false

        func validate() throws {
            if noStart && detach { throw ValidationError("--no-start and --detach: choose one") }
        }

        func run() async throws {
            let composition = Composition()
            let root = try await composition.repositoryRoot(global.repo)
            let builder = try MissionRequestBuilder(composition: composition, root: root)
            var given = try mission.fields()
            given.source = "cli"
            var planning: [ModelCall] = []
            // A goal, a pipeline and no checklist: one job, one group from the goal, which the pipeline's own steps
            // plan and carry out (no planner, nothing to review).
            if let goal = given.goal, given.pipeline != nil, try !builder.hasChecklist(given) {
                given.acceptance = ChecklistRenderer.render(Planner.fallback(goal: goal))
                Console.err("one job: a group from the goal, run as the pipeline \(given.pipeline ?? "")")
            }
            // A goal and no checklist: plan one first (it lives in the mission's folder, the repository is untouched).
            if let goal = given.goal, try !builder.hasChecklist(given) {
                let session = try await PlanningSession(
                    composition: composition,
                    repo: root,
                    planner: planner.settings(keyFiles: given.keyFiles ?? []),
                    fields: given,
                    repairs: 2,
                    maxTokens: planner.plannerMaxTokens
                )
                let planned = try await session.plan(goal: goal)
                planning = planned.calls
                guard
                    let checklist = try session.accept(
                        planned.checklist,
                        review: !yes,
                        keepChecks: runPlannedChecks,
                        question: "Run the mission with this checklist?"
                    )
                else { throw FlotillaError.invalid("no mission started: the planned checklist was declined") }
                given.acceptance = ChecklistRenderer.render(checklist)
            }
            let request = try builder.build(given)
            let repository = try MissionRepository(composition: composition, root: root, create: false)
            let created = try await repository.create(request, planning: planning)
            for warning in created.warnings { Console.err("warning: \(warning)") }
            let spec = created.spec
            if noStart {
                switch global.output {
                case .json: Console.json(["id": spec.id.rawValue, "state": MissionState.created.rawValue])
                case .table:
                    Console.out("\(spec.id)")
                    Console.err("created, not started: `flotilla resume \(spec.id)` starts it")
                }
                return
            }
            if detach {
                let pid = try repository.launchInBackground(spec.id)
                switch global.output {
                case .json: Console.json(["id": spec.id.rawValue, "pid": String(pid)])
                case .table:
                    Console.out("\(spec.id)")
                    Console.err(
                        "running in the background (process \(pid)); follow it with `flotilla attach \(spec.id)`"
                    )
                }
                return
            }
            let code = try await MissionFollowing(output: global.output, composition: composition)
                .runHere(repository, spec.id)
            if code != 0 { throw MissionExit(code: code) }
        }
    }
}
