import ArgumentParser
import FlotillaCore
import FlotillaEngine
import FlotillaMCP
import FlotillaService
import MCP

extension Flotilla {
    struct MCPServe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mcp",
            abstract: "Serve Flotilla to another agent over MCP (stdio): plan, start, follow and control missions.",
            discussion: """
                For an MCP client's configuration: `{"command": "flotilla", "args": ["mcp", "--repo", "/path"]}`. \
                Tools: plan, start_mission, mission_status, list_missions, mission_history, mission_log, \
                stop_mission, resume_mission, approve_mission. Resources: flotilla://missions/{id}/checklist and \
                /log, flotilla://missions/{id}/attempts/{sequence}/transcript and /diff. Missions run in the \
                background and outlive the session. stdout carries the protocol only; diagnostics go to stderr. \
                A running `flotilla serve` offers the same at /mcp (streamable HTTP, behind its tokens).
                """
        )

        @OptionGroup var repository: RepositoryOption
        @OptionGroup var planner: PlannerOptions

        @Option(help: "A file holding an API key, as PROVIDER=PATH (repeatable); it wins over the environment.")
        var keyFile: [String] = []

        func run() async throws {
            let access = try await MissionAccess.open(repo: repository.repo)
            let settings = planner.settings(keyFiles: keyFile)
            let maxTokens = planner.plannerMaxTokens
            let tools = MissionTools(service: access.service) { goal, repository in
                let session = try await PlanningSession(
                    composition: Composition(),
                    repo: repository,
                    planner: settings,
                    repairs: 2,
                    maxTokens: maxTokens
                )
                // No person sees this plan before a client may run it: the planner's checks are dropped.
                let planned = try await session.plan(goal: goal).checklist
                return ChecklistRenderer.render(
                    try session.accept(planned, review: false, keepChecks: false, question: "") ?? planned
                )
            }
            let server = await tools.server()
            try await server.start(transport: StdioTransport())
            await server.waitUntilCompleted()
        }
    }
}
