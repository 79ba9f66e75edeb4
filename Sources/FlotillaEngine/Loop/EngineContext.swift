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
