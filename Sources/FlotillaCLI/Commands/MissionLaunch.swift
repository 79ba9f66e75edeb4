import Dispatch
import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaStore
import FlotillaSystem
import Foundation

/// Creates missions and runs them: in this process (live view or event lines), or in a background process.
struct MissionLaunch {
    let composition: Composition
    let root: String
    let output: OutputFormat

    var layout: MissionLayout { MissionLayout(repository: root) }

    /// Checks the request and writes the new mission; if any check fails nothing is written.
    ///
    /// `planning` are the planner's calls that wrote the checklist, kept with the mission (their cost is its).
    func create(_ request: MissionRequest, planning: [ModelCall] = []) async throws -> MissionSpec {
        let git = composition.git(root)
        let preparation = MissionPreparation(git: git, layout: layout)
        let prepared = try await preparation.prepare(request)
        for warning in prepared.warnings { Console.err("warning: \(warning)") }

        // Only now, with every input checked, is anything written.
        let spec = prepared.spec
        let ledger = try composition.openLedger(layout)
        let origin = Date()
        let eventsFile = EventsFileSink(path: layout.eventsFile(spec.id))
        let missionLog = MissionLogSink(path: layout.missionLog(spec.id), origin: origin)
        defer {
            eventsFile.close()
            missionLog.close()
        }
        missionLog.write("Flotilla \(Flotilla.version) — mission \(spec.id)")
        missionLog.write("Goal: \(spec.goal)")
        missionLog.write("Repository: \(spec.repository) at \(spec.baseCommit) → \(spec.targetBranch)")
        missionLog.write(
            "Verify: \(spec.verifyCommand ?? "(group checks only)") · protected: "
                + spec.protectedPatterns.joined(separator: ", ")
        )
        missionLog.write("Agents: \(spec.agents) × \(spec.backend) · limits: \(limitsDescription(spec.limits))")
        missionLog.write("Prompts, transcripts, patches and gate output: \(layout.agentOutputs(spec.id))")
        missionLog.write(
            spec.options.critic == nil && spec.options.criticURL == nil
                ? "Critic: none configured; a failed gate is explained by its own output only"
                : "Critic: \(spec.options.criticURL ?? spec.options.critic?.rawValue ?? "") "
                    + (spec.options.criticModel ?? "")
        )
        missionLog.write("")
        // Nothing on stdout here: `run --detach` prints only the mission id there.
        let sink = EventBus([eventsFile, missionLog])
        try await preparation.create(prepared, ledger: ledger, now: origin, sink: sink)
        for call in planning { sink.publish(try await ledger.record(.modelCalled(call), mission: spec.id, at: Date())) }
        return spec
    }

    /// Runs (or resumes) a mission in this process until it ends; returns the exit status its end calls for.
    func runForeground(_ id: MissionID) async throws -> Int32 {
        let ledger = try composition.openLedger(layout)
        guard let record = try await ledger.mission(id) else {
            throw FlotillaError.invalid("no mission \(id) in \(root)")
        }
        let spec = record.spec
        let configuration = try Configuration.load(root: root, environment: composition.environment)
        let agent = try AgentFactory(configuration: configuration, composition: composition, root: root).make(spec)
        let critic = try LanguageModels.critic(
            spec.options,
            configuration: configuration,
            composition: composition,
            root: root
        ).map(Critic.init)
        try await EventsFileSink.restore(path: layout.eventsFile(id), from: ledger, mission: id)
        let eventsFile = EventsFileSink(path: layout.eventsFile(id))
        let missionLog = MissionLogSink(path: layout.missionLog(id), origin: record.createdAt)
        let live = output == .table && composition.isInteractiveTerminal ? LiveView(spec: spec) : nil
        let console: any MissionEventSink =
            live ?? EventLinePrinter(origin: record.createdAt, toStandardError: output == .json)
        let sink = EventBus([eventsFile, missionLog, console])
        defer {
            eventsFile.close()
            missionLog.close()
        }
        if output == .table && live == nil {
            Console.out(
                "Mission \(id): \(spec.checklist.groups.count) groups, \(spec.agents) agents (\(spec.backend)) → "
                    + spec.targetBranch
            )
        }
        let sandbox = try await composition.sandbox(for: spec)
        if let note = sandbox.note { Console.err("warning: \(note)") }
        let runner = MissionRunner(
            ports: MissionRunner.Ports(
                ledger: ledger,
                git: composition.git(root),
                agent: agent,
                processes: composition.processes,
                probe: composition.faultInjection,
                processTable: composition.processTable,
                critic: critic
            ),
            options: MissionRunner.Options(
                environment: composition.childEnvironment(passing: spec.options.passEnv ?? []),
                verifyTimeout: spec.options.verifyTimeout,
                keepAttemptBranches: spec.options.keepBranches ?? false,
                mergeBatch: spec.options.mergeBatchSize,
                rateLimitBackoff: spec.options.rateLimitBackoff,
                sandbox: sandbox
            ),
            layout: layout,
            sink: sink
        )
        let stop = CompletionSignal()
        let interrupts = InterruptHandler(stop: stop)
        defer { interrupts.restore() }
        let result: MissionResult?
        do {
            result = try await withThrowingTaskGroup(of: MissionResult?.self) { group in
                group.addTask { try await runner.run(id, stop: stop) }
                if let live {
                    group.addTask {
                        while !Task.isCancelled {
                            try? await ContinuousClock().sleep(for: .milliseconds(250))
                            live.tick()
                        }
                        return nil
                    }
                }
                var outcome: MissionResult?
                while let next = try await group.next() {
                    if let next {
                        outcome = next
                        group.cancelAll()
                    }
                }
                return outcome
            }
        } catch let error as EngineError {
            throw FlotillaError.invalid(error.description)
        }
        guard let result else { return 1 }

        let final = try await ledger.mission(id)
        let groups = try await ledger.groups(of: id)
        missionLog.write("")
        missionLog.write("Result: \(result.reason.outcomeDescription) — \(result.summary)")
        missionLog.write(try await phaseTimes(ledger: ledger, id: id))
        missionLog.write("Target: \(spec.targetBranch) at \(result.targetHead)")

        switch output {
        case .json:
            if let final { Console.json(MissionDTO(final, targetHead: result.targetHead, groups: groups)) }
        case .table:
            Console.out("")
            Console.out("Mission \(id) \(result.reason.outcomeDescription): \(result.summary)")
            Console.out(
                "  target:  \(spec.targetBranch) at \(result.targetHead.shortSHA) (base \(spec.baseCommit.shortSHA))"
            )
            Console.out("  log:     \(layout.missionLog(id))")
            Console.out("  details: flotilla status \(id) · flotilla history \(id)")
        }
        return result.reason.exitCode
    }

    /// Runs the mission in a background process of its own (`flotilla resume ID`); returns that process's pid.
    func runInBackground(_ id: MissionID) throws -> Int32 {
        guard let binary = Bundle.main.executablePath else {
            throw FlotillaError.invalid("cannot locate the flotilla binary")
        }
        return try BackgroundProcess.launch(
            executable: binary,
            arguments: ["resume", id.rawValue, "--repo", root],
            // The mission's own process runs it; it must not hand it back to a daemon.
            environment: composition.environment.merging(["FLOTILLA_NO_DAEMON": "1"]) { $1 },
            directory: root,
            logPath: layout.backgroundLog(id)
        )
    }

    private func limitsDescription(_ limits: MissionLimits) -> String {
        [
            "cost " + (limits.maxCostUSD.map(formatUSD) ?? "uncapped"),
            "time " + (limits.maxWallClock?.shortDescription ?? "uncapped"),
            "attempts " + (limits.maxAttempts.map(String.init) ?? "uncapped"),
            "attempt timeout \(limits.attemptTimeout.shortDescription)",
            "stall after \(limits.stallThreshold)",
        ].joined(separator: ", ")
    }

    /// Where the time went, summed over attempts (agents overlap, so the sum can exceed the wall time).
    private func phaseTimes(ledger: SQLiteLedger, id: MissionID) async throws -> String {
        let attempts = try await ledger.attempts(of: id)
        let verifications = try await ledger.verifications(of: id)
        func total(_ kind: VerificationKind) -> Duration {
            verifications.filter { $0.verification.kind == kind }.reduce(.zero) { $0 + $1.verification.duration }
        }
        let agents = attempts.compactMap(\.agentSeconds).reduce(0, +)
        return "Time in phases: agents \(Duration.seconds(bounded: agents).shortDescription), "
            + "gates \(total(.gate).shortDescription), regression verifies \(total(.regression).shortDescription), "
            + "final verify \(total(.final).shortDescription)"
    }
}

/// Turns Ctrl-C and SIGTERM into a graceful stop; a second Ctrl-C exits at once.
final class InterruptHandler {
    private let sources: [any DispatchSourceSignal]

    init(stop: CompletionSignal) {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if stop.isSignalled {
                    Console.err("\nstopping now")
                    exit(130)
                }
                Console.err("\nstopping: ending running attempts (Ctrl-C again to quit at once)")
                stop.signal()
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func restore() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
