import FlotillaCore
import FlotillaEngine
import FlotillaStore
import FlotillaSystem
import Foundation

/// Runs scenarios, each in a fresh child process (so that peak memory is the scenario's own), and the
/// start-up measurements of the `flotilla` binary.
package struct BenchmarkSuite {
    package struct Report: Codable, Sendable {
        package var machine: String
        package var scenarios: [ScenarioResult]
        package var startup: StartupResult?
        package var webhook: WebhookLoad.Result?
        package var sandbox: SandboxCost.Result?

        package init(machine: String, scenarios: [ScenarioResult] = [], startup: StartupResult? = nil) {
            self.machine = machine
            self.scenarios = scenarios
            self.startup = startup
        }
    }

    package struct StartupResult: Codable, Sendable {
        package var runs: Int
        package var versionMedianMS: Double
        package var statusJSONMedianMS: Double
        package var missionsInLedger: Int
    }

    let binary: String
    let environment: [String: String]
    let processes = SubprocessRunner()

    package init(binary: String, environment: [String: String]) {
        self.binary = binary
        self.environment = environment
    }

    /// Runs one scenario in a child `flotilla bench --run-scenario JSON`.
    package func run(_ scenario: BenchmarkScenario) async throws -> ScenarioResult {
        let encoded = String(decoding: try JSONEncoder().encode(scenario), as: UTF8.self)
        let result = try await processes.run(
            ProcessRequest(
                executable: binary,
                arguments: ["bench", "--run-scenario", encoded],
                workingDirectory: NSTemporaryDirectory(),
                environment: environment,
                timeout: .seconds(1800)
            )
        )
        guard result.termination.isSuccess, let data = result.standardOutput.data(using: .utf8),
            let decoded = try? JSONDecoder().decode(ScenarioResult.self, from: data)
        else {
            throw BenchmarkError(
                "scenario \(scenario.name) failed (\(result.termination)): \(result.outputTail.utf8Tail(3000))"
            )
        }
        return decoded
    }

    /// Median start-up time of `flotilla --version` and of `flotilla status --output json` on a ledger with
    /// `missions` missions.
    package func startup(runs: Int, missions: Int) async throws -> StartupResult {
        let workspace = try Workspace(prefix: "flotilla-bench-startup")
        defer { workspace.remove() }
        let repository = workspace.path("repo")
        try await LedgerFiller.fill(repository: repository, missions: missions, environment: environment)
        func median(_ arguments: [String]) async throws -> Double {
            var times: [Duration] = []
            for _ in 0..<runs {
                let started = ContinuousClock.now
                let result = try await processes.run(
                    ProcessRequest(
                        executable: binary,
                        arguments: arguments,
                        workingDirectory: repository,
                        environment: environment
                    )
                )
                times.append(ContinuousClock.now - started)
                guard result.termination.isSuccess else {
                    throw BenchmarkError("flotilla \(arguments.joined(separator: " ")) failed: \(result.outputTail)")
                }
            }
            return Statistics.median(times).millisecondsDouble
        }
        return StartupResult(
            runs: runs,
            versionMedianMS: try await median(["--version"]),
            statusJSONMedianMS: try await median(["status", "--output", "json"]),
            missionsInLedger: missions
        )
    }

    /// A line saying what this machine is.
    package static func machineDescription() -> String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memory = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
        var cpu = "unknown CPU"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let name = line.split(separator: ":", maxSplits: 1).last
        {
            cpu = name.trimmingCharacters(in: .whitespaces)
        }
        let os = ProcessInfo.processInfo.operatingSystemVersionString
        return "\(cores) cores (\(cpu)), \(Int(memory.rounded())) GiB, \(os)"
    }
}

/// Writes a ledger with many finished missions, as a long-used repository would have.
enum LedgerFiller {
    static func fill(repository: String, missions: Int, environment: [String: String]) async throws {
        try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
        let processes = SubprocessRunner()
        var gitEnvironment = environment
        for key in ["GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"] { gitEnvironment[key] = "bench" }
        for key in ["GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"] { gitEnvironment[key] = "bench@localhost" }
        for arguments in [
            ["-c", "init.defaultBranch=main", "init", "--quiet"], ["commit", "--quiet", "--allow-empty", "-m", "x"],
        ] {
            _ = try await processes.run(
                ProcessRequest(
                    executable: "git",
                    arguments: arguments,
                    workingDirectory: repository,
                    environment: gitEnvironment
                )
            )
        }
        let head = try await processes.run(
            ProcessRequest(
                executable: "git",
                arguments: ["rev-parse", "HEAD"],
                workingDirectory: repository,
                environment: gitEnvironment
            )
        ).standardOutput.trimmingWhitespace()
        let layout = MissionLayout(repository: repository)
        let ledger = try SQLiteLedger(path: layout.ledgerPath)
        let checklist = BenchmarkScenario(name: "filler", groups: 5, agents: 1).checklist
        var last: MissionID?
        for index in 0..<missions {
            let id = MissionID.random()
            let spec = MissionSpec(
                id: id,
                goal: "mission \(index)",
                repository: repository,
                baseCommit: head,
                targetBranch: MissionLayout.defaultTargetBranch(id),
                verifyCommand: "true",
                protectedPatterns: ["/ACCEPTANCE.md"],
                agents: 2,
                backend: "command",
                model: nil,
                limits: MissionLimits(),
                checklist: checklist,
                checklistSource: "ACCEPTANCE.md"
            )
            let at = Date(timeIntervalSince1970: 1_800_000_000 + Double(index))
            try await ledger.record(.missionCreated(spec), mission: id, at: at)
            try await ledger.record(
                .missionStarted(agents: 2, backend: "command", runner: nil, resumed: false),
                mission: id,
                at: at
            )
            try await ledger.record(.missionFinished(.completed, summary: "filler"), mission: id, at: at)
            last = id
        }
        if let last {
            _ = try await processes.run(
                ProcessRequest(
                    executable: "git",
                    arguments: ["branch", MissionLayout.defaultTargetBranch(last), head],
                    workingDirectory: repository,
                    environment: gitEnvironment
                )
            )
        }
    }
}
