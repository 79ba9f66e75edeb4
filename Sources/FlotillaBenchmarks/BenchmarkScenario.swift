import FlotillaCore
import Foundation

/// One synthetic mission to measure.
package struct BenchmarkScenario: Codable, Sendable, Equatable {
    package var name: String
    package var groups: Int
    /// Groups per layer of the DAG; each group after the first layer depends on two of the layer before.
    package var width: Int
    package var agents: Int
    /// Share of groups whose agent also appends to one shared file (their concurrent attempts conflict).
    package var conflictShare: Double
    /// How long the verify command takes.
    package var verifyMilliseconds: Int
    /// Candidates landed together under one regression verify (1: one at a time).
    package var mergeBatch: Int
    /// Also time the git floor: the same git and verify work, done by a plain script.
    package var measureFloor: Bool
    /// Hold back groups expected to touch files of running ones (the mission's `avoid_overlap`; off when nil).
    package var avoidOverlap: Bool?
    /// Conflicting groups declare the shared file on a `Files:` line.
    package var declareFiles: Bool?
    /// Every group also has a typed criterion on a mission-wide probe, which each gate and landing runs.
    package var probes: Bool?

    package init(
        name: String,
        groups: Int,
        width: Int? = nil,
        agents: Int,
        conflictShare: Double = 0,
        verifyMilliseconds: Int = 0,
        mergeBatch: Int = 1,
        measureFloor: Bool = false,
        avoidOverlap: Bool? = nil,
        declareFiles: Bool? = nil,
        probes: Bool? = nil
    ) {
        self.probes = probes
        self.avoidOverlap = avoidOverlap
        self.declareFiles = declareFiles
        self.name = name
        self.groups = groups
        self.width = width ?? max(1, groups / 10)
        self.agents = agents
        self.conflictShare = conflictShare
        self.verifyMilliseconds = verifyMilliseconds
        self.mergeBatch = mergeBatch
        self.measureFloor = measureFloor
    }

    /// The checklist: `groups` groups in layers of `width`.
    package var checklist: Checklist {
        var result: [ChecklistGroup] = []
        for index in 0..<groups {
            let layer = index / width
            let position = index % width
            var dependsOn: [String] = []
            if layer > 0 {
                let previousLayerStart = (layer - 1) * width
                let first = previousLayerStart + position
                let second = previousLayerStart + (position + 1) % width
                dependsOn = Array(Set([first, second])).sorted().map(Self.groupID)
            }
            var group = ChecklistGroup(
                id: Self.groupID(index),
                title: "Group \(index)",
                dependsOn: dependsOn,
                criteria: ["g\(index).txt exists"]
            )
            if declareFiles == true { group.files = ["g\(index).txt"] + (conflicts(index) ? ["shared.txt"] : []) }
            if probes == true {
                group.typedCriteria = [TypedCriterion(id: "steps", kind: .metric, expression: "size.steps <= 1")]
            }
            result.append(group)
        }
        let probe = Probe(name: "size", command: "echo steps=1")
        return Checklist(title: "Benchmark \(name)", groups: result, probes: probes == true ? [probe] : [])
    }

    package static func groupID(_ index: Int) -> String { "g\(index)" }

    /// Whether the agent of this group also edits the shared file (deterministic, spread over the groups).
    package func conflicts(_ index: Int) -> Bool {
        conflictShare > 0 && (Double((index * 7919) % 1000) / 1000) < conflictShare
    }

    /// The instant agent: one file per group, plus a line in the shared file for conflicting groups.
    package var agentScript: String {
        let conflicting = (0..<groups).filter(conflicts).map(Self.groupID)
        var script = "printf '%s ok\\n' \"$FLOTILLA_GROUP\" > \"$FLOTILLA_GROUP.txt\"\n"
        if !conflicting.isEmpty {
            script += "case \" \(conflicting.joined(separator: " ")) \" in *\" $FLOTILLA_GROUP \"*) "
            script += "printf '%s\\n' \"$FLOTILLA_GROUP\" >> shared.txt ;; esac\n"
        }
        return script
    }

    package var verifyCommand: String {
        verifyMilliseconds == 0 ? "true" : "sleep \(Double(verifyMilliseconds) / 1000)"
    }

    /// The scenarios `flotilla bench` runs by default.
    package static let defaults: [BenchmarkScenario] = {
        var scenarios: [BenchmarkScenario] = []
        for groups in [10, 100, 1000] {
            for agents in [1, 4, 16] {
                scenarios.append(
                    BenchmarkScenario(
                        name: "g\(groups)-a\(agents)",
                        groups: groups,
                        agents: agents,
                        measureFloor: agents == 4
                    )
                )
            }
        }
        // What a probe and a metric per group add, against g100-a4 in the same run.
        scenarios.append(BenchmarkScenario(name: "g100-a4-probes", groups: 100, agents: 4, probes: true))
        scenarios.append(BenchmarkScenario(name: "conflicts-30pct", groups: 100, agents: 4, conflictShare: 0.3))
        // The same with footprint avoidance: learned from conflicts alone, then with `Files:` lines declared.
        scenarios.append(
            BenchmarkScenario(
                name: "conflicts-30pct-avoid",
                groups: 100,
                agents: 4,
                conflictShare: 0.3,
                avoidOverlap: true
            )
        )
        scenarios.append(
            BenchmarkScenario(
                name: "conflicts-30pct-files",
                groups: 100,
                agents: 4,
                conflictShare: 0.3,
                avoidOverlap: true,
                declareFiles: true
            )
        )
        scenarios.append(BenchmarkScenario(name: "verify-200ms-a8", groups: 100, agents: 8, verifyMilliseconds: 200))
        scenarios.append(
            BenchmarkScenario(
                name: "verify-200ms-a8-batch8",
                groups: 100,
                agents: 8,
                verifyMilliseconds: 200,
                mergeBatch: 8
            )
        )
        return scenarios
    }()
}

/// What one scenario measured.
package struct ScenarioResult: Codable, Sendable {
    package var scenario: BenchmarkScenario
    package var outcome: String
    package var wallSeconds: Double
    package var attempts: Int
    package var landed: Int
    package var conflicts: Int
    package var attemptsPerSecond: Double
    package var mergesPerSecond: Double
    package var landedPerMinute: Double
    package var schedulingLatencyMedianMS: Double
    package var schedulingLatencyP95MS: Double
    /// The loop's share of the scheduling latency: from "could start" to dispatch (p50, p95).
    package var decidingP50MS: Double
    package var decidingP95MS: Double
    /// The attempt's own start: claim in the ledger, worktree reset, prompt (p50, p95).
    package var startingP50MS: Double
    package var startingP95MS: Double
    package var overheadMedianMS: Double
    package var processesRun: Int
    package var processSeconds: Double
    package var verifications: Int
    package var verificationsPerLandedGroup: Double
    package var peakRSSMB: Double
    package var ledgerBytes: Int
    package var floorSeconds: Double?
    package var floorRatio: Double?
    /// Processes by kind (`git worktree add`, `git commit`, `sh`…).
    package var processes: [String: ProcessStatistic]
}

package struct ProcessStatistic: Codable, Sendable {
    package var count: Int
    package var meanMS: Double
}
