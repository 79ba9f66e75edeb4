import FlotillaCore
import Foundation

/// The ports and settings every part of a running mission shares.
struct EngineContext: Sendable {
    let ledger: any MissionLedger
    let git: any GitRepository
    let agent: any AgentBackend
    let gate: Gate
    let layout: MissionLayout
    let sink: any MissionEventSink
    let now: @Sendable () -> Date
    let probe: (any MissionProbe)?
    let critic: Critic?
    /// How agent sessions (and, through the gate, verify runs) are confined.
    var sandbox: SandboxSettings = .none
    /// Keeps publication in ledger order when attempts record concurrently.
    let recording = AsyncLock()

    /// Stores a state change with its event, then publishes the event.
    @discardableResult
    func record(_ change: LedgerChange, mission: MissionID) async throws -> MissionEvent {
        try await recording.withLock {
            let event = try await ledger.record(change, mission: mission, at: now())
            sink.publish(event)
            return event
        }
    }
}

extension EngineContext {
    /// Makes `directory` a clean checkout of `commit`, with a repository of its own at `.git` (objects read from this
    /// repository's), as agents, gates and verifies get: git works there, and nothing done to it reaches Flotilla's.
    func checkout(_ commit: String, into directory: String, mission: MissionID) async throws {
        let index = layout.index(mission, of: directory)
        try await git.checkout(commit, into: directory, index: index)
        try git.prepareOwnRepository(in: directory, at: commit, index: index)
    }
}
