import FlotillaBenchmarks
import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Benchmark runner", .tags(.medium), .timeLimit(.minutes(10)))
struct BenchmarkRunnerTests {
    @Test func layeredChecklistHasTheRequestedShape() throws {
        let scenario = BenchmarkScenario(name: "shape", groups: 25, width: 10, agents: 2)
        let checklist = scenario.checklist
        #expect(checklist.groups.count == 25)
        #expect(checklist.groups.prefix(10).allSatisfy { $0.dependsOn.isEmpty })
        #expect(checklist.group("g10")?.dependsOn == ["g0", "g1"])
        #expect(checklist.group("g19")?.dependsOn == ["g0", "g9"])
        #expect(checklist.group("g24")?.dependsOn == ["g14", "g15"])
        // It is a valid checklist: the validator finds nothing.
        let text = ChecklistRenderer.render(checklist)
        #expect(throws: Never.self) { try ChecklistParser.parse(text, file: "ACCEPTANCE.md") }
    }

    @Test func aScenarioRunsAndItsFiguresAddUp() async throws {
        let scenario = BenchmarkScenario(
            name: "smoke",
            groups: 6,
            width: 3,
            agents: 2,
            conflictShare: 0,
            measureFloor: true
        )
        let environment = EnvironmentPolicy().environment(from: ProcessInfo.processInfo.environment)
        let result = try await ScenarioRunner(scenario: scenario, environment: environment).run()
        #expect(result.outcome == "completed")
        #expect(result.landed == 6)
        #expect(result.attempts >= 6)
        #expect(result.wallSeconds > 0 && result.attemptsPerSecond > 0)
        #expect(
            result.schedulingLatencyMedianMS >= 0 && result.schedulingLatencyP95MS >= result.schedulingLatencyMedianMS
        )
        #expect(result.overheadMedianMS >= 0)
        #expect(result.peakRSSMB > 0)
        #expect(result.ledgerBytes > 0)
        #expect((result.floorSeconds ?? 0) > 0 && (result.floorRatio ?? 0) > 0)
        #expect(result.processes["git merge-tree"]?.count == 6)
        #expect(
            result.processes["sh"]?.count == 6 * 3 + 1,
            "agent, gate and regression verify per group, then the final verify"
        )
    }
}
