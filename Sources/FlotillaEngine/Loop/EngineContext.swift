import FlotillaCore
import Foundation

/// What recording and repairing a mission needs without running it: its ledger, git, files and event sink.
struct ControlContext: Sendable {
    let ledger: any MissionLedger
    let git: any GitRepository
    let layout: MissionLayout
    let sink: any MissionEventSink
    let now: @Sendable () -> Date
    let probe: (any MissionProbe)?
    /// Whether a checkout that judges is made from a fresh index and checked against its commit's object ids: without
    /// a sandbox, an agent can write Flotilla's indexes and the repository's objects.
    var verifiesCheckouts = false

    /// Stores a state change with its event, then publishes the event.
    ///
    /// A running mission has one writer, its loop, so events are published in ledger order.
    @discardableResult
    func record(_ change: LedgerChange, mission: MissionID) async throws -> MissionEvent {
        let event = try await ledger.record(change, mission: mission, at: now())
        sink.publish(event)
        return event
    }
}

/// The ports and settings every part of a running mission shares: the control context, with the agent, the gate
/// and the critic.
struct EngineContext: Sendable {
    let control: ControlContext
    let agent: any AgentBackend
    let gate: Gate
    let critic: Critic?
    /// Scores verified attempts before they land (`--review`), with the critic's model.
    var reviewer: Reviewer?
    /// Plans each attempt before its agent runs (`--architect`), with the critic's model.
    var architect: Architect?
    /// Judges the goal once every group landed (`--objective-check`), with the critic's model.
    var objective: ObjectiveCheck?
    /// Reads passing diffs for special-casing before they land (`--hack-check`), with the critic's model.
    var hackCheck: HackCheck?
    /// How agent sessions (and, through the gate, verify runs) are confined.
    var sandbox: SandboxSettings = .none
    /// The agents of pipeline steps that name a backend of their own; nil: every step runs the mission's agent.
    var stepAgent: (@Sendable (PipelineStep) throws -> any AgentBackend)?
    /// What the loop's waits wait on (a pipeline step's backoff between tries).
    var clock: any Clock<Duration> = ContinuousClock()

    var ledger: any MissionLedger { control.ledger }
    var git: any GitRepository { control.git }
    var layout: MissionLayout { control.layout }
    var sink: any MissionEventSink { control.sink }
    var now: @Sendable () -> Date { control.now }
    var probe: (any MissionProbe)? { control.probe }

    func checkout(_ commit: String, into directory: String, mission: MissionID, judging: Bool = false) async throws {
        try await control.checkout(commit, into: directory, mission: mission, judging: judging)
    }

    /// The same context with another gate (one that judges against the base's tests, once they are known).
    func with(gate: Gate) -> EngineContext {
        EngineContext(
            control: control,
            agent: agent,
            gate: gate,
            critic: critic,
            reviewer: reviewer,
            architect: architect,
            objective: objective,
            hackCheck: hackCheck,
            sandbox: sandbox,
            stepAgent: stepAgent,
            clock: clock
        )
    }

    /// The agent a pipeline step runs: its own backend's, or the mission's.
    func agent(for step: PipelineStep) throws -> any AgentBackend {
        guard step.backend != nil, let stepAgent else { return agent }
        return try stepAgent(step)
    }

    @discardableResult
    func record(_ change: LedgerChange, mission: MissionID) async throws -> MissionEvent {
        try await control.record(change, mission: mission)
    }
}

extension ControlContext {
    /// Makes `directory` a clean checkout of `commit`, with a repository of its own at `.git` (objects read from this
    /// repository's), as agents, gates and verifies get: git works there, and nothing done to it reaches Flotilla's.
    func checkout(
        _ commit: String,
        into directory: String,
        mission: MissionID,
        judging: Bool = false,
        index given: String? = nil
    ) async throws {
        let index = given ?? layout.index(mission, of: directory)
        if judging && verifiesCheckouts {
            let altered = try await git.checkoutVerified(commit, into: directory, index: index)
            guard altered.isEmpty else {
                throw FlotillaError(
                    .internal,
                    "the checkout of \(commit.shortSHA) does not match its commit: "
                        + altered.prefix(5).joined(separator: ", ")
                        + " read differently from the objects their ids name; an object of the repository was "
                        + "rewritten (without a sandbox, agents can write .git/objects): run `git fsck`, and use "
                        + "--sandbox bwrap"
                )
            }
        } else {
            try await git.checkout(commit, into: directory, index: index)
        }
        // Confined, the checkout's repository reads only objects reachable from the commits checked out; without a
        // sandbox the agent can read the repository's own anyway, and sharing would cost a push per commit for
        // nothing.
        var objects = git.objectsDirectory
        if !verifiesCheckouts {
            try await git.share(commit)
            objects = git.sharedObjectsDirectory
        }
        try git.prepareOwnRepository(in: directory, at: commit, index: index, objects: objects)
    }
}
