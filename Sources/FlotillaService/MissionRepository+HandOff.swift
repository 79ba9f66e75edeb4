import FlotillaCore
import FlotillaEngine
import FlotillaStore
import Foundation

extension MissionRepository {
    /// `flotilla land`: the completed mission's verified result onto `branch`, after a verify of the exact commit.
    package func land(_ record: MissionRecord, onto branch: String) async throws -> LandingOnto {
        try await withRunner(record) { try await $0.land(record.spec.id, onto: branch) }
    }

    /// `flotilla check`: the verify and the probes on `commit` (the target's head when nil), for `groups` (all when
    /// empty); nothing of the mission changes but its `criteria.checked` event.
    package func check(_ record: MissionRecord, groups: [String], commit: String?) async throws -> Verification {
        try await withRunner(record) { try await $0.check(record.spec.id, groups: groups, commit: commit) }
    }

    /// A runner of the mission that runs no agent, writing what it records to the mission's files too.
    private func withRunner<T>(_ record: MissionRecord, _ body: (MissionRunner) async throws -> T) async throws -> T {
        let spec = record.spec
        let ledger = try requireLedger()
        let eventsFile = EventsFileSink(path: layout.eventsFile(spec.id))
        let missionLog = MissionLogSink(path: layout.missionLog(spec.id), origin: record.createdAt)
        defer {
            eventsFile.close()
            missionLog.close()
        }
        let runner = MissionRunner(
            ports: MissionRunner.Ports(
                ledger: ledger,
                git: composition.git(root),
                agent: NoAgent(),
                processes: composition.processes,
                processTable: composition.processTable
            ),
            options: MissionRunner.Options(
                environment: composition.childEnvironment(passing: spec.options.passEnv ?? []),
                sandbox: try await composition.sandbox(for: spec)
            ),
            layout: layout,
            sink: EventBus([eventsFile, missionLog])
        )
        return try await body(runner)
    }
}

/// The agent of work that runs none (landing a finished mission).
private struct NoAgent: AgentBackend {
    var name: String { "none" }

    func run(_ request: AgentRequest) async throws -> AgentOutcome {
        throw FlotillaError(.internal, "no agent runs while a finished mission is handed off")
    }
}
