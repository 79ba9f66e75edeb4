import FlotillaCore
import Foundation

/// Drives a created mission to its end: dispatches attempts over the frontier, lands verified work through the
/// merge queue, applies the stall rule and the breakers, and runs the final verify.
///
/// The loop is one task that owns all scheduling state; attempts and landings run as child tasks and report back
/// to it, so no state is shared between tasks.
package struct MissionRunner: Sendable {
    package struct Ports: Sendable {
        package var ledger: any MissionLedger
        package var git: any GitRepository
        package var agent: any AgentBackend
        package var processes: any ProcessRunner
        package var clock: any Clock<Duration>
        package var now: @Sendable () -> Date
        /// Told of every attempt's milestones, for benchmarks and metrics.
        package var probe: (any MissionProbe)?
        /// Tells live missions from crashed ones and tracks children; without it nothing is tracked.
        package var processTable: (any ProcessTable)?
        /// Explains failed gates for the next prompt; none when not configured.
        package var critic: Critic?
        /// Plans attempts when `--architect` names a model of its own (not the critic's).
        package var architect: (any LanguageModel)?
        /// Runs the attempts; nil runs them here, with the agent above (``LocalAttemptExecutor``).
        package var executor: (any AttemptExecutor)?
        /// Makes the agent of a pipeline step that names its own backend (and model, or command).
        package var stepAgent: (@Sendable (PipelineStep) throws -> any AgentBackend)?

        package init(
            ledger: any MissionLedger,
            git: any GitRepository,
            agent: any AgentBackend,
            processes: any ProcessRunner,
            clock: any Clock<Duration> = ContinuousClock(),
            now: @escaping @Sendable () -> Date = { Date() },
            probe: (any MissionProbe)? = nil,
            processTable: (any ProcessTable)? = nil,
            critic: Critic? = nil,
            architect: (any LanguageModel)? = nil,
            executor: (any AttemptExecutor)? = nil,
            stepAgent: (@Sendable (PipelineStep) throws -> any AgentBackend)? = nil
        ) {
            self.stepAgent = stepAgent
            self.executor = executor
            self.critic = critic
            self.architect = architect
            self.ledger = ledger
            self.git = git
            self.agent = agent
            self.processes = processes
            self.clock = clock
            self.now = now
            self.probe = probe
            self.processTable = processTable
        }
    }

    /// What a run needs beyond the mission's own fields (which it reads from the ledger: verify timeout, merge
    /// batch, rate-limit backoff, keeping branches).
    package struct Options: Sendable {
        /// The allowlisted environment agents and verify commands start from.
        package var environment: [String: String]
        /// The sandbox of agent sessions and verify runs.
        package var sandbox: SandboxSettings
        /// `[limits] daily_cost_usd`: what the ledger's missions may spend in 24 hours together.
        package var dailyCostUSD: Double?

        package init(environment: [String: String], sandbox: SandboxSettings = .none, dailyCostUSD: Double? = nil) {
            self.environment = environment
            self.sandbox = sandbox
            self.dailyCostUSD = dailyCostUSD
        }
    }

    let ports: Ports
    let options: Options
    let layout: MissionLayout
    let sink: any MissionEventSink

    package init(ports: Ports, options: Options, layout: MissionLayout, sink: any MissionEventSink) {
        self.ports = ports
        self.options = options
        self.layout = layout
        self.sink = sink
    }

    /// Runs the mission until it completes, blocks, trips a breaker, fails, or `stop` is signalled.
    package func run(_ id: MissionID, stop: CompletionSignal = CompletionSignal()) async throws -> MissionResult {
        guard let record = try await ports.ledger.mission(id) else {
            throw FlotillaError.notFound("no mission \(id) in this repository's ledger (see `flotilla list`)")
        }
        let spec = record.spec
        var gate = try await gate(for: spec)
        var context = EngineContext(
            control: control,
            agent: ports.agent,
            gate: gate,
            critic: ports.critic,
            reviewer: try reviewer(for: spec),
            architect: try architect(for: spec),
            objective: try objectiveCheck(for: spec),
            hackCheck: try hackCheck(for: spec),
            sandbox: options.sandbox,
            stepAgent: ports.stepAgent,
            clock: ports.clock
        )
        if record.stopReason == .terminated { try MissionControl.requireResumable(record) }
        if record.state == .completed {
            // A crash between recording the end and tidying up leaves worktrees and branches: tidy them now.
            await MissionCleanUp(spec: spec, context: context, processTable: ports.processTable).run()
            let head = try await ports.git.resolveCommit("refs/heads/\(spec.targetBranch)") ?? spec.baseCommit
            return MissionResult(reason: .completed, summary: "already completed", targetHead: head)
        }
        let recovery = MissionRecovery(context: context.control, processTable: ports.processTable)
        let resumed = record.state != .created || record.attempts > 0
        if resumed { try recovery.ensureNotRunningElsewhere(record) }
        // Recorded before recovery: it closes a crashed run's time at that run's last event, not at this one.
        try await context.record(
            .missionStarted(
                agents: spec.agents,
                backend: spec.backend,
                runner: ports.processTable?.current(),
                resumed: resumed,
                sandbox: options.sandbox.summary + (options.sandbox.note.map { " (\($0))" } ?? "")
            ),
            mission: id
        )
        context.probe?.mark(.checkpoint("mission.started"))
        if resumed {
            let actions = try await recovery.reconcile(record)
            try await context.record(.recovered(actions: actions), mission: id)
        }
        // What the verify's tests do at the base: every later run of the verify is judged against it.
        if let baseline = try await testBaseline(spec, gate: gate) {
            gate = gate.judging(against: baseline)
            context = context.with(gate: gate)
        }
        if let figures = try await probeBaselines(spec, gate: gate) {
            gate.configuration.baselines = figures
            context = context.with(gate: gate)
        }
        let prior = try await ports.ledger.mission(id)?.runningSeconds ?? 0
        var loop = try await MissionLoop(spec: spec, context: context, ports: ports, options: options)
        let tracker = ports.processTable?.tracker(recordingIn: layout.processesDirectory(id))
        return try await ProcessTracking.$current.withValue(tracker) {
            try await loop.run(stop: stop, priorRunning: .seconds(bounded: prior))
        }
    }
}

extension MissionRunner {
    /// The mission's gate: its trusted verify command and group checks, with files taken from the base commit again
    /// (nothing kept on disk between runs is trusted).
    func gate(for spec: MissionSpec) async throws -> Gate {
        let harness = try await Harness.of(spec, git: ports.git)
        let trusted = try await TrustedFiles.derive(harness, base: spec.baseCommit, git: ports.git)
        var configuration = Gate.Configuration(
            mission: spec.id,
            verifyCommand: spec.verifyCommand,
            checks: Dictionary(
                uniqueKeysWithValues: spec.checklist.groups.compactMap { g in g.check.map { (g.id, $0) } }
            ),
            trustedFiles: trusted,
            timeout: spec.options.verifyTimeout,
            environment: options.environment,
            sandbox: options.sandbox,
            objects: ports.git.sharedObjectsDirectory
        )
        configuration.runners = harness.runners
        configuration.checklist = spec.checklist
        if options.sandbox.mode == .none { configuration.path = PathSnapshot(path: options.environment["PATH"] ?? "") }
        return Gate(configuration: configuration, runner: ports.processes, layout: layout)
    }

    /// What the verify command's tests do at the base commit: recorded once (the first run of a mission whose harness
    /// uses a test runner), then read back from the ledger on every resume.
    func testBaseline(_ spec: MissionSpec, gate: Gate) async throws -> TestBaseline? {
        guard !gate.configuration.runners.subtracting([.make, .npm, .tox]).isEmpty else { return nil }
        if let recorded = try await recorded(MissionEvent.TestsBaseline.self, of: spec.id) {
            return TestBaseline(tests: recorded.tests)
        }
        let staging = layout.stagingWorktree(spec.id)
        try await control.checkout(spec.baseCommit, into: staging, mission: spec.id, judging: true)
        guard
            let baseline = try await gate.baseline(
                commit: spec.baseCommit,
                in: staging,
                logPath: layout.baselineLog(spec.id)
            )
        else { return nil }
        try await control.record(.testsBaseline(baseline), mission: spec.id)
        return baseline
    }

    /// The figures `base * k` targets compare with, measured once on the base commit before the first attempt, then
    /// read back from the ledger on every resume; nil when no metric has such a target.
    func probeBaselines(_ spec: MissionSpec, gate: Gate) async throws -> [String: Double]? {
        let metrics = spec.checklist.groups.flatMap { group in
            group.typedCriteria.compactMap { criterion -> (group: String, metric: TypedCriterion.Metric)? in
                guard case .metric(let metric)? = try? criterion.compiled(), case .base = metric.target else {
                    return nil
                }
                return (group.id, metric)
            }
        }
        guard !metrics.isEmpty else { return nil }
        if let recorded = try await recorded(MissionEvent.ProbesBaseline.self, of: spec.id) { return recorded.figures }
        let staging = layout.stagingWorktree(spec.id)
        try await control.checkout(spec.baseCommit, into: staging, mission: spec.id, judging: true)
        try TrustedFiles.restore(gate.configuration.trustedFiles, in: staging)
        let reports = (layout.report(spec.id, "base-probes") as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        var runs: [String: ProbeRun] = [:]
        var figures: [String: Double] = [:]
        for (group, metric) in metrics {
            guard let probe = spec.checklist.probes(of: group).last(where: { $0.name == metric.probe }) else {
                continue
            }
            let key = "\(group)/\(probe.name)"
            if runs[key] == nil { runs[key] = try await gate.run(probe, in: staging, reports: reports) }
            if let run = runs[key], run.exitCode == 0, let value = CriteriaCascade.figure(metric, in: run.document) {
                figures[metric.figure] = value
            }
        }
        try await control.record(.probesBaseline(figures), mission: spec.id)
        return figures
    }

    /// The first event of the mission whose payload is a `Payload`, read page by page: a baseline recorded once.
    private func recorded<Payload: EventPayload>(_ type: Payload.Type, of mission: MissionID) async throws -> Payload? {
        var after: Int64 = 0
        while true {
            let page = try await ports.ledger.events(of: mission, after: after, limit: 1000)
            if let event = page.first(where: { Payload.kinds.contains($0.kind) }) { return event.payload(type) }
            guard let last = page.last else { return nil }
            after = last.id
        }
    }

    /// `--review`: the critic's model, scoring verified attempts.
    func reviewer(for spec: MissionSpec) throws -> Reviewer? {
        let mode = spec.options.reviewMode
        guard mode != .none else { return nil }
        guard let critic = ports.critic else {
            throw FlotillaError.invalid(
                "--review \(mode.rawValue) needs a model to review with: configure the critic (--critic, --critic-url)"
            )
        }
        let gate = spec.options.reviewGate
        return Reviewer(model: critic.model, mode: mode, threshold: gate.threshold, timeout: gate.timeout)
    }

    /// `--hack-check`: the critic's model, reading passing diffs for special-casing.
    func hackCheck(for spec: MissionSpec) throws -> HackCheck? {
        guard spec.options.hackCheck == true else { return nil }
        guard let critic = ports.critic else {
            throw FlotillaError.invalid(
                "--hack-check needs a model to read diffs with: configure the critic (--critic, --critic-url)"
            )
        }
        return HackCheck(model: critic.model, timeout: spec.options.reviewGate.timeout)
    }

    /// `--architect`: the model that plans each attempt, the critic's or its own.
    func architect(for spec: MissionSpec) throws -> Architect? {
        guard let text = spec.options.architect else { return nil }
        let model: any LanguageModel
        switch ModelChoice(text) {
        case .critic?:
            guard let critic = ports.critic else {
                throw FlotillaError.invalid(
                    "--architect critic needs a model to plan with: configure the critic (--critic, --critic-url)"
                )
            }
            model = critic.model
        case .api?:
            guard let architect = ports.architect else {
                throw FlotillaError.invalid("--architect \(text): its model was not configured for this run")
            }
            model = architect
        case nil:
            throw FlotillaError.invalid("--architect must be \(ModelChoice.help), not `\(text)`")
        }
        return Architect(model: model, timeout: spec.options.reviewGate.timeout)
    }

    /// `--objective-check`: the critic's model, judging the goal once every group landed.
    func objectiveCheck(for spec: MissionSpec) throws -> ObjectiveCheck? {
        guard spec.options.objectiveCheck == true else { return nil }
        guard let critic = ports.critic else {
            throw FlotillaError.invalid(
                "--objective-check needs a model to judge the goal with: configure the critic (--critic, --critic-url)"
            )
        }
        return ObjectiveCheck(model: critic.model, timeout: spec.options.reviewGate.timeout)
    }

    var control: ControlContext {
        ControlContext(
            ledger: ports.ledger,
            git: ports.git,
            layout: layout,
            sink: sink,
            now: ports.now,
            probe: ports.probe,
            verifiesCheckouts: options.sandbox.mode == .none
        )
    }
}

/// How a mission ended.
package struct MissionResult: Sendable, Equatable {
    package var reason: StopReason
    package var summary: String
    package var targetHead: String
}
