import Dispatch
import FlotillaCore
import FlotillaEngine
import FlotillaStore
import Foundation

/// Creates a mission from a request and runs it in the foreground, with the live view or event lines.
struct MissionLaunch {
    let composition: Composition
    let root: String
    let output: OutputFormat
    let passEnv: [String]
    let verifyTimeout: Duration
    let keepBranches: Bool
    var mergeBatch = 8

    /// Runs the mission; returns its id and the exit status its end calls for.
    func run(_ request: MissionRequest, agent: any AgentBackend) async throws -> (mission: MissionID, exitCode: Int32) {
        let layout = MissionLayout(repository: root)
        let git = composition.git(root)
        let preparation = MissionPreparation(git: git, layout: layout)
        let prepared: PreparedMission
        do {
            prepared = try await preparation.prepare(request)
        } catch let error as MissionInputError {
            throw InputError(error.description)
        }
        for warning in prepared.warnings { Console.err("warning: \(warning)") }

        // Only now, with every input checked, is anything written.
        let spec = prepared.spec
        guard let ledger = try composition.ledger(layout, create: true) else { return (spec.id, 1) }
        let origin = Date()
        let eventsFile = EventsFileSink(path: layout.eventsFile(spec.id))
        let missionLog = MissionLogSink(path: layout.missionLog(spec.id), origin: origin)
        let live = output == .table && composition.isInteractiveTerminal ? LiveView(spec: spec) : nil
        let console: any MissionEventSink = live ?? EventLinePrinter(origin: origin, toStandardError: output == .json)
        let sink = EventBus([eventsFile, missionLog, console])
        defer {
            eventsFile.close()
            missionLog.close()
        }

        missionLog.write("Flotilla \(Flotilla.version) — mission \(spec.id)")
        missionLog.write("Goal: \(spec.goal)")
        missionLog.write("Repository: \(spec.repository) at \(spec.baseCommit) → \(spec.targetBranch)")
        missionLog.write(
            "Verify: \(spec.verifyCommand ?? "(group checks only)") · protected: \(spec.protectedPatterns.joined(separator: ", "))"
        )
        missionLog.write("Agents: \(spec.agents) × \(spec.backend) · limits: \(limitsDescription(spec.limits))")
        missionLog.write("Prompts, transcripts, patches and gate output: \(layout.agentOutputs(spec.id))")
        missionLog.write("")
        try await preparation.create(prepared, ledger: ledger, now: origin, sink: sink)
        if output == .table && live == nil {
            Console.out(
                "Mission \(spec.id): \(spec.checklist.groups.count) groups, \(spec.agents) agents (\(spec.backend)) → \(spec.targetBranch)"
            )
        }

        let runner = MissionRunner(
            ports: MissionRunner.Ports(ledger: ledger, git: git, agent: agent, processes: composition.processes),
            options: MissionRunner.Options(
                environment: composition.childEnvironment(passing: passEnv),
                verifyTimeout: verifyTimeout,
                keepAttemptBranches: keepBranches,
                mergeBatch: mergeBatch
            ),
            layout: layout,
            sink: sink
        )
        let stop = CompletionSignal()
        let interrupts = InterruptHandler(stop: stop)
        defer { interrupts.restore() }
        let result = try await withThrowingTaskGroup(of: MissionResult?.self) { group in
            group.addTask { try await runner.run(spec.id, stop: stop) }
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
        guard let result else { return (spec.id, 1) }

        let record = try await ledger.mission(spec.id)
        let groups = try await ledger.groups(of: spec.id)
        missionLog.write("")
        missionLog.write("Result: \(result.reason.outcomeDescription) — \(result.summary)")
        missionLog.write(try await phaseTimes(ledger: ledger, id: spec.id))
        missionLog.write("Target: \(spec.targetBranch) at \(result.targetHead)")

        switch output {
        case .json:
            if let record { Console.json(MissionDTO(record, targetHead: result.targetHead, groups: groups)) }
        case .table:
            Console.out("")
            Console.out("Mission \(spec.id) \(result.reason.outcomeDescription): \(result.summary)")
            Console.out(
                "  target:  \(spec.targetBranch) at \(result.targetHead.shortSHA) (base \(spec.baseCommit.shortSHA))"
            )
            Console.out("  log:     \(layout.missionLog(spec.id))")
            Console.out("  details: flotilla status \(spec.id) · flotilla history \(spec.id)")
        }
        return (spec.id, result.reason.exitCode)
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
        return "Time in phases: agents \(Duration.milliseconds(Int64(agents * 1000)).shortDescription), "
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
