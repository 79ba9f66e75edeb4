import ArgumentParser
import FlotillaBenchmarks
import FlotillaCore
import FlotillaService
import Foundation

extension Flotilla {
    struct Benchmark: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench",
            abstract: "Measure Flotilla's own overhead on synthetic missions (see docs/PERFORMANCE.md).",
            discussion: """
                Runs each scenario (G groups, A agents, an instant agent and a trivial verify) in a fresh child \
                process, compares it with the git floor (the same git and verify work done by a plain script), and \
                times the binary's start-up. Build in release mode first: swift run -c release flotilla bench
                """,
            shouldDisplay: false
        )

        @Option(name: .long, help: "Output format: table for people, json for scripts.")
        var output: OutputFormat = .table

        @Option(help: "Run only these scenarios (repeatable); names as in the table.")
        var scenario: [String] = []

        @Flag(help: "A small set that runs in seconds, to check the runner itself.")
        var quick = false

        @Option(help: "Runs per start-up measurement (0 skips it).")
        var startupRuns: Int = 30

        @Option(help: "Missions in the ledger for the `status` start-up measurement.")
        var ledgerMissions: Int = 1000

        @Option(help: "Requests per webhook load phase (0 skips it).")
        var webhookRequests: Int = 2000

        @Option(help: "Concurrent clients in the webhook load phases.")
        var webhookClients: Int = 8

        @Option(help: "Runs per sandbox policy for the sandbox's cost (0 skips it).")
        var sandboxRuns: Int = 50

        @Option(help: .hidden)
        var runScenario: String?

        func run() async throws {
            let composition = Composition()
            let environment = composition.childEnvironment()
            if let runScenario {
                // Child mode: one scenario in this process, the result as JSON on stdout.
                let scenario = try JSONDecoder().decode(BenchmarkScenario.self, from: Data(runScenario.utf8))
                let result = try await ScenarioRunner(scenario: scenario, environment: environment).run()
                Console.json(result)
                return
            }
            var scenarios = quick ? Self.quickSet : BenchmarkScenario.defaults
            if !scenario.isEmpty {
                let known = Set((BenchmarkScenario.defaults + Self.quickSet).map(\.name))
                for name in scenario where !known.contains(name) {
                    throw FlotillaError.invalid(
                        "--scenario \(name): no such scenario (known: \(known.sorted().joined(separator: ", ")))"
                    )
                }
                scenarios = (BenchmarkScenario.defaults + Self.quickSet).filter { scenario.contains($0.name) }
            }
            guard let binary = Bundle.main.executablePath else {
                throw FlotillaError.invalid("cannot locate the flotilla binary")
            }
            let suite = BenchmarkSuite(binary: binary, environment: environment)
            var report = BenchmarkSuite.Report(
                machine: BenchmarkSuite.machineDescription(),
                scenarios: [],
                startup: nil
            )
            for (index, scenario) in scenarios.enumerated() {
                Console.err(
                    "[\(index + 1)/\(scenarios.count)] \(scenario.name): \(scenario.groups) groups, \(scenario.agents) agents…"
                )
                let result = try await suite.run(scenario)
                Console.err(
                    "    \(result.outcome) in \(String(format: "%.2f", result.wallSeconds)) s"
                        + (result.floorRatio.map { String(format: ", %.2f× the git floor", $0) } ?? "")
                )
                report.scenarios.append(result)
            }
            if startupRuns > 0 {
                Console.err(
                    "start-up: \(startupRuns) runs each, \(quick ? 50 : ledgerMissions) missions in the ledger…"
                )
                report.startup = try await suite.startup(runs: startupRuns, missions: quick ? 50 : ledgerMissions)
            }
            if sandboxRuns > 0 {
                let runs = quick ? min(sandboxRuns, 10) : sandboxRuns
                Console.err("sandbox: \(runs) runs of each policy…")
                report.sandbox = try await SandboxCost(environment: environment).measure(runs: runs)
            }
            if webhookRequests > 0 {
                let requests = quick ? min(webhookRequests, 200) : webhookRequests
                Console.err("webhook: \(requests) requests per phase from \(webhookClients) loopback clients…")
                report.webhook = try await WebhookLoad(binary: binary, environment: environment)
                    .run(requests: requests, concurrency: max(1, webhookClients))
            }
            switch output {
            case .json: Console.json(report)
            case .table: Console.out(BenchmarkReport.table(report))
            }
        }

        static let quickSet = [
            BenchmarkScenario(name: "quick-g10-a2", groups: 10, agents: 2, measureFloor: true),
            BenchmarkScenario(name: "quick-conflicts", groups: 10, width: 5, agents: 3, conflictShare: 0.5),
            BenchmarkScenario(name: "quick-g10-a2-probes", groups: 10, agents: 2, probes: true),
        ]
    }
}
