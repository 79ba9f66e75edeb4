import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaGit
import FlotillaStore
import FlotillaSystem
import Foundation

/// Runs one scenario in this process: a real mission (real git, real ledger file, real processes) with the engine
/// instrumented, then the git floor for comparison.
package struct ScenarioRunner {
    let scenario: BenchmarkScenario
    let environment: [String: String]
    let processes = SubprocessRunner()

    package init(scenario: BenchmarkScenario, environment: [String: String]) {
        self.scenario = scenario
        self.environment = environment
    }

    package func run() async throws -> ScenarioResult {
        let workspace = try Workspace(prefix: "flotilla-bench-\(scenario.name)")
        defer { workspace.remove() }
        let repository = try await makeRepository(in: workspace.path("mission"))
        let agentScript = workspace.path("agent.sh")
        try scenario.agentScript.write(toFile: agentScript, atomically: true, encoding: .utf8)

        let recorder = RecordingRunner(processes)
        let probe = RecordingProbe()
        let layout = MissionLayout(repository: repository)
        let git = GitCLI(root: repository, runner: recorder, environment: environment)
        let ledger = try SQLiteLedger(path: layout.ledgerPath)
        let preparation = MissionPreparation(git: git, layout: layout)
        var fields = MissionFields()
        fields.goal = "benchmark \(scenario.name)"
        fields.verify = scenario.verifyCommand
        fields.agents = scenario.agents
        fields.mergeBatch = scenario.mergeBatch
        fields.avoidOverlap = scenario.avoidOverlap ?? false
        fields.setLimits(MissionLimits(attemptTimeout: .seconds(120), stallThreshold: 50))
        let prepared = try await preparation.prepare(
            MissionRequest(
                checklist: scenario.checklist,
                checklistPath: (repository as NSString).appendingPathComponent("ACCEPTANCE.md"),
                backend: .command,
                fields: fields
            )
        )
        let origin = Date()
        let events = EventsFileSink(path: layout.eventsFile(prepared.spec.id))
        let log = MissionLogSink(path: layout.missionLog(prepared.spec.id), origin: origin)
        defer {
            events.close()
            log.close()
        }
        try await preparation.create(prepared, ledger: ledger, now: origin, sink: EventBus([events, log]))
        let runner = MissionRunner(
            ports: MissionRunner.Ports(
                ledger: ledger,
                git: git,
                agent: CommandAgent(command: "sh \(agentScript)", runner: recorder, environment: environment),
                processes: recorder,
                probe: probe
            ),
            // The engine as it runs by default, in the sandbox (so it does not watch your refs as it would without
            // one); the processes themselves run unconfined here: the sandbox's own cost is measured apart.
            options: MissionRunner.Options(
                environment: environment,
                sandbox: SandboxSettings(mode: .bwrap)
            ),
            layout: layout,
            sink: EventBus([events, log])
        )
        let started = ContinuousClock.now
        let result = try await runner.run(prepared.spec.id)
        let wall = ContinuousClock.now - started
        let peak = ResidentMemory.peakMegabytes()

        let attempts = try await ledger.attempts(of: prepared.spec.id)
        let verifications = try await ledger.verifications(of: prepared.spec.id)
        let landed = attempts.filter { $0.outcome == .landed }.count
        let latencies = probe.schedulingLatencies()
        let overheads = probe.overheads(processTime: recorder.processTime(of:))
        try await ledger.checkpoint()
        let ledgerBytes = ["", "-wal"].reduce(0) { total, suffix in
            total
                + ((try? FileManager.default.attributesOfItem(atPath: layout.ledgerPath + suffix)[.size] as? Int) ?? 0)
        }
        var floor: Duration?
        if scenario.measureFloor {
            floor = try await gitFloor(in: workspace.path("floor"), agentScript: agentScript)
        }
        let landings = Set(verifications.filter { $0.verification.kind == .regression }.map(\.verification.commit))
        return ScenarioResult(
            scenario: scenario,
            outcome: result.reason.rawValue,
            wallSeconds: wall.seconds,
            attempts: attempts.count,
            landed: landed,
            conflicts: attempts.filter { $0.outcome == .conflict }.count,
            attemptsPerSecond: Double(attempts.count) / wall.seconds,
            mergesPerSecond: Double(landed) / wall.seconds,
            landedPerMinute: Double(landed) / wall.seconds * 60,
            schedulingLatencyMedianMS: Statistics.median(latencies.total).millisecondsDouble,
            schedulingLatencyP95MS: Statistics.percentile(latencies.total, 0.95).millisecondsDouble,
            decidingP50MS: Statistics.median(latencies.deciding).millisecondsDouble,
            decidingP95MS: Statistics.percentile(latencies.deciding, 0.95).millisecondsDouble,
            startingP50MS: Statistics.median(latencies.starting).millisecondsDouble,
            startingP95MS: Statistics.percentile(latencies.starting, 0.95).millisecondsDouble,
            overheadMedianMS: Statistics.median(overheads).millisecondsDouble,
            processesRun: recorder.processCount,
            processSeconds: recorder.totalProcessTime.seconds,
            verifications: verifications.count,
            verificationsPerLandedGroup: landed == 0
                ? 0
                : Double(landings.count + verifications.filter { $0.verification.kind == .gate }.count)
                    / Double(landed),
            peakRSSMB: peak,
            ledgerBytes: ledgerBytes,
            floorSeconds: floor?.seconds,
            floorRatio: floor.map { wall / $0 },
            processes: recorder.breakdown
        )
    }

    /// A repository with the checklist and nothing else to build.
    private func makeRepository(in path: String) async throws -> String {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try ChecklistRenderer.render(scenario.checklist).write(
            toFile: (path as NSString).appendingPathComponent("ACCEPTANCE.md"),
            atomically: true,
            encoding: .utf8
        )
        try "benchmark\n".write(
            toFile: (path as NSString).appendingPathComponent("README"),
            atomically: true,
            encoding: .utf8
        )
        try await git(["-c", "init.defaultBranch=main", "init", "--quiet"], in: path)
        try await git(["add", "--all"], in: path)
        try await git(["-c", "commit.gpgSign=false", "commit", "--quiet", "-m", "benchmark"], in: path)
        return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    @discardableResult
    private func git(_ arguments: [String], in directory: String) async throws -> String {
        var environment = self.environment
        for key in ["GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"] { environment[key] = "bench" }
        for key in ["GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"] { environment[key] = "bench@localhost" }
        let result = try await processes.run(
            ProcessRequest(
                executable: "git",
                arguments: arguments,
                workingDirectory: directory,
                environment: environment
            )
        )
        guard result.termination.isSuccess else {
            throw BenchmarkError("git \(arguments.joined(separator: " ")) failed: \(result.standardError)")
        }
        return result.standardOutput.trimmingWhitespace()
    }

    /// The git floor: the git and verify processes a landing needs, as Flotilla runs them.
    ///
    /// One after another in dependency order, by a plain shell script with no orchestration: update the agent's checkout to the target
    /// head, run the agent, snapshot its files (add, write-tree, commit-tree), point the attempt's branch at it,
    /// check the commit out for the gate, gate, merge-tree, commit-tree, check the result out for staging,
    /// regression verify, update-ref. Each checkout is a plain directory with its own index, as Flotilla's are.
    private func gitFloor(in path: String, agentScript: String) async throws -> Duration {
        let repository = try await makeRepository(in: path)
        let verify = scenario.verifyCommand
        var script = """
            set -e
            cd \(repository)
            export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost
            export GIT_DIR=$PWD/.git
            head=$(git rev-parse HEAD)
            git branch floor-target $head
            mkdir -p ../agent ../gate ../staging
            checkout() { GIT_WORK_TREE=../$1 GIT_INDEX_FILE=../$1.index git read-tree --reset -u $2 && GIT_WORK_TREE=../$1 GIT_INDEX_FILE=../$1.index git clean -ffdxq; }

            """
        for index in 0..<scenario.groups {
            let group = BenchmarkScenario.groupID(index)
            script += """
                checkout agent $head
                (cd ../agent && FLOTILLA_GROUP=\(group) sh -c 'sh \(agentScript)')
                GIT_WORK_TREE=../agent GIT_INDEX_FILE=../agent.index git add --all
                tree=$(GIT_INDEX_FILE=../agent.index git write-tree)
                commit=$(git commit-tree $tree -p $head -m \(group))
                git update-ref refs/heads/floor/\(group) $commit
                checkout gate $commit
                (cd ../gate && FLOTILLA_GROUPS=\(group) sh -c '\(verify)')
                tree=$(git merge-tree --write-tree $head $commit)
                new=$(git commit-tree $tree -p $head -m \(group))
                checkout staging $new
                (cd ../staging && sh -c '\(verify)')
                git update-ref refs/heads/floor-target $new $head
                head=$new

                """
        }
        let scriptPath = (path as NSString).appendingPathComponent("floor.sh")
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let started = ContinuousClock.now
        let result = try await processes.run(
            ProcessRequest(
                executable: "/bin/sh",
                arguments: [scriptPath],
                workingDirectory: path,
                environment: environment
            )
        )
        let elapsed = ContinuousClock.now - started
        guard result.termination.isSuccess else {
            throw BenchmarkError("the git floor script failed: \(result.outputTail.utf8Tail(2000))")
        }
        return elapsed
    }
}

/// A scratch directory for one scenario.
struct Workspace {
    let root: String

    init(prefix: String) throws {
        root = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

package struct BenchmarkError: Error, CustomStringConvertible {
    package var description: String

    init(_ description: String) {
        self.description = description
    }
}
