import FlotillaCore
import FlotillaEngine
import FlotillaStore
import Foundation

/// A mission just created: its spec, and what its creator should know.
package struct CreatedMission: Sendable {
    package var spec: MissionSpec
    /// Things that do not stop the mission but that its creator should hear.
    package var warnings: [String]
}

/// How a run of a mission in this process ended.
package struct FinishedRun: Sendable {
    package var result: MissionResult
    package var record: MissionRecord
    package var groups: [GroupRecord]
}

extension MissionRepository {
    /// Checks the request and writes the new mission; if any check fails nothing is written.
    ///
    /// `planning` are the planner's calls that wrote the checklist, kept with the mission (their cost is its).
    package func create(
        _ request: MissionRequest,
        planning: [ModelCall] = []
    ) async throws -> CreatedMission {
        let preparation = MissionPreparation(git: composition.git(root), layout: layout)
        let prepared = try await preparation.prepare(request)

        // Only now, with every input checked, is anything written.
        let spec = prepared.spec
        let ledger = try openLedger()
        let origin = Date()
        let eventsFile = EventsFileSink(path: layout.eventsFile(spec.id))
        let missionLog = MissionLogSink(path: layout.missionLog(spec.id), origin: origin)
        defer {
            eventsFile.close()
            missionLog.close()
        }
        missionLog.write("Flotilla \(FlotillaVersion.current) — mission \(spec.id)")
        missionLog.write("Goal: \(spec.goal)")
        missionLog.write("Repository: \(spec.repository) at \(spec.baseCommit) → \(spec.targetBranch)")
        missionLog.write(
            "Verify: \(spec.verifyCommand ?? "(group checks only)") · protected: "
                + spec.protectedPatterns.joined(separator: ", ")
        )
        missionLog.write("Agents: \(spec.agents) × \(spec.backend) · limits: \(Self.describe(spec.limits))")
        missionLog.write("Prompts, transcripts, patches and gate output: \(layout.agentOutputs(spec.id))")
        let fields = spec.options
        missionLog.write(
            fields.critic == nil && fields.criticURL == nil
                ? "Critic: none configured; a failed gate is explained by its own output only"
                : "Critic: \(fields.criticURL ?? fields.critic?.rawValue ?? "") \(fields.criticModel ?? "")"
        )
        missionLog.write("")
        let sink = EventBus([eventsFile, missionLog])
        try await preparation.create(prepared, ledger: ledger, now: origin, sink: sink)
        for call in planning { sink.publish(try await ledger.record(.modelCalled(call), mission: spec.id, at: Date())) }
        return CreatedMission(spec: spec, warnings: prepared.warnings)
    }

    /// Runs (or resumes) a mission in this process until it ends or `stop` is signalled; `console` hears every
    /// event besides the mission's files, and `note` what a person should know first (the sandbox's fallback).
    package func run(
        _ id: MissionID,
        console: any MissionEventSink,
        stop: CompletionSignal,
        note: @Sendable (String) -> Void
    ) async throws -> FinishedRun {
        let ledger = try openLedger()
        let record = try await requireRecord(id)
        let spec = record.spec
        let configuration = try Configuration.load(root: root, environment: composition.environment)
        let factory = AgentFactory(configuration: configuration, composition: composition, root: root)
        let agent = try factory.make(spec)
        let sandbox = try await composition.sandbox(for: spec)
        // The critic's model also reviews, plans attempts and judges the goal: as a CLI, confined like the sessions
        // whose work it reads, read-only on the repository.
        let critic = try LanguageModels.critic(
            spec.options,
            configuration: configuration,
            composition: composition,
            root: root,
            confinement: sandbox.role(repository: root)
        ).map(Critic.init)
        let architect = try LanguageModels.architect(
            spec.options,
            configuration: configuration,
            composition: composition,
            root: root,
            confinement: sandbox.role(repository: root)
        )
        try await EventsFileSink.restore(path: layout.eventsFile(id), from: ledger, mission: id)
        let eventsFile = EventsFileSink(path: layout.eventsFile(id))
        let missionLog = MissionLogSink(path: layout.missionLog(id), origin: record.createdAt)
        defer {
            eventsFile.close()
            missionLog.close()
        }
        if let warning = sandbox.note { note(warning) }
        let runner = MissionRunner(
            ports: MissionRunner.Ports(
                ledger: ledger,
                git: composition.git(root),
                agent: agent,
                processes: composition.processes,
                probe: composition.faultInjection,
                processTable: composition.processTable,
                critic: critic,
                architect: architect,
                stepAgent: { step in try factory.make(step, fields: spec.options, checklist: spec.checklist) }
            ),
            options: MissionRunner.Options(
                environment: composition.childEnvironment(passing: spec.options.passEnv ?? []),
                sandbox: sandbox,
                dailyCostUSD: configuration.dailyCostUSD
            ),
            layout: layout,
            sink: EventBus([eventsFile, missionLog, console])
        )
        // Notifications go out beside the loop, never in it; what is still due at the end gets a short grace.
        let targets =
            configuration.notify.values.sorted { $0.name < $1.name }
            + (spec.options.callbackURL.map { [NotificationTarget.callback($0)] } ?? [])
        try await ledger.setNotificationTargets(targets, for: id)
        let courier = NotificationCourier(
            environment: composition.environment,
            processes: composition.processes,
            sink: missionLog
        )
        let result = try await courier.deliveringBeside(ledger, mission: id, grace: configuration.notifyGrace) {
            try await runner.run(id, stop: stop)
        }
        // Tries were recorded beside the loop's events, so the file is rewritten in the ledger's order.
        try await EventsFileSink.restore(path: layout.eventsFile(id), from: ledger, mission: id)
        missionLog.write("")
        missionLog.write("Result: \(result.reason.outcomeDescription) — \(result.summary)")
        missionLog.write(try await Self.phaseTimes(ledger: ledger, id: id))
        missionLog.write("Target: \(spec.targetBranch) at \(result.targetHead)")
        return FinishedRun(
            result: result,
            record: try await requireRecord(id),
            groups: try await ledger.groups(of: id)
        )
    }

    private static func describe(_ limits: MissionLimits) -> String {
        [
            "cost " + (limits.maxCostUSD.map(formatUSD) ?? "uncapped"),
            "time " + (limits.maxWallClock?.shortDescription ?? "uncapped"),
            "attempts " + (limits.maxAttempts.map(String.init) ?? "uncapped"),
            "attempt timeout \(limits.attemptTimeout.shortDescription)",
            "stall after \(limits.stallThreshold)",
        ].joined(separator: ", ")
    }

    /// Where the time went, summed over attempts (agents overlap, so the sum can exceed the wall time).
    private static func phaseTimes(ledger: SQLiteLedger, id: MissionID) async throws -> String {
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
