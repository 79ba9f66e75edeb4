import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaService
import Foundation
import Synchronization

/// Prints each event as one plain line: for logs, CI and pipes.
final class EventLinePrinter: MissionEventSink {
    private let origin: Date
    private let toStandardError: Bool

    init(origin: Date, toStandardError: Bool) {
        self.origin = origin
        self.toStandardError = toStandardError
    }

    func publish(_ event: MissionEvent) {
        let line = "\(MissionLogSink.offset(event.at.timeIntervalSince(origin))) \(event.message)"
        if toStandardError { Console.err(line) } else { Console.out(line) }
    }
}

/// The live view on a terminal: each group's state, each agent's current attempt, attempts, cost and time.
final class LiveView: MissionEventSink {
    private struct State {
        var groupStates: [String: String] = [:]
        var groupAttempts: [String: Int] = [:]
        var slots: [Int: String] = [:]
        var attempts = 0
        var costUSD = 0.0
        var last = ""
        var linesDrawn = 0
        var finished = false
    }

    /// What the view draws from: the mission's id, goal, agents and groups.
    struct Outline: Sendable {
        var id: String
        var goal: String
        var agents: Int
        var groups: [(id: String, dependsOn: [String])]

        init(_ spec: MissionSpec) {
            id = spec.id.rawValue
            goal = spec.goal
            agents = spec.agents
            groups = spec.checklist.groups.map { ($0.id, $0.dependsOn) }
        }

        init(_ mission: MissionDTO) {
            id = mission.id
            goal = mission.goal
            agents = mission.agents
            groups = (mission.groups ?? []).map { ($0.id, $0.dependsOn) }
        }
    }

    private let spec: Outline
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    init(_ outline: Outline) {
        spec = outline
    }

    func publish(_ event: MissionEvent) {
        state.withLock { state in
            apply(event, to: &state)
            draw(&state)
        }
    }

    /// Redraws (for the elapsed time) between events.
    func tick() {
        state.withLock { state in
            if !state.finished { draw(&state) }
        }
    }

    private func apply(_ event: MissionEvent, to state: inout State) {
        state.last = event.message
        let group = event.group ?? ""
        switch event.kind {
        case .attemptStarted:
            state.attempts += 1
            state.groupAttempts[group] = event.attempt ?? 0
            if let slot = event.payload(MissionEvent.AttemptStarted.self)?.slot {
                state.slots[slot] = "\(group)#\(event.attempt ?? 0)"
            }
            state.groupStates[group] = "agent working"
        case .agentFinished:
            state.costUSD += event.payload(MissionEvent.AgentFinished.self)?.costUSD ?? 0
            state.groupStates[group] = "checking (gate)"
        case .gatePassed:
            freeSlot(of: group, in: &state)
            state.groupStates[group] = "queued to land"
        case .mergeStarted:
            for group in Self.groups(of: event) { state.groupStates[group] = "landing (regression verify)" }
        case .attemptLanded:
            for group in Self.groups(of: event) { state.groupStates[group] = "done ✓" }
        case .mergeRequeued:
            for group in Self.groups(of: event) { state.groupStates[group] = "queued to land" }
        case .attemptFailed:
            freeSlot(of: group, in: &state)
            let failed = event.payload(MissionEvent.AttemptFailed.self)
            state.groupStates[group] = failed?.groupStatus == .blocked ? "blocked ✗" : "retrying"
            for dependent in failed?.blockedDependents ?? [] { state.groupStates[dependent] = "blocked ✗" }
        case .missionFinished:
            state.finished = true
        default:
            break
        }
    }

    /// The groups an event is about: its group, or those of the attempts it names (a batch landing).
    private static func groups(of event: MissionEvent) -> [String] {
        if let group = event.group { return [group] }
        let attempts =
            event.payload(MissionEvent.MergeStarted.self)?.attempts ?? event.payload(MissionEvent.AttemptLanded.self)?
            .attempts ?? event.payload(MissionEvent.MergeRequeued.self)?.attempts ?? []
        return attempts.compactMap { $0.split(separator: "#").first.map(String.init) }
    }

    private func freeSlot(of group: String, in state: inout State) {
        for (slot, key) in state.slots where key.hasPrefix(group + "#") { state.slots[slot] = nil }
    }

    private func draw(_ state: inout State) {
        var lines: [String] = []
        let elapsed = (ContinuousClock.now - started).shortDescription
        lines.append(
            "flotilla \(spec.id) — \(String(spec.goal.prefix(60)))   \(elapsed) · \(state.attempts) attempts · "
                + formatUSD(state.costUSD)
        )
        for slot in 1...max(1, spec.agents) {
            lines.append("  agent \(slot)  " + (state.slots[slot] ?? "idle"))
        }
        guard spec.groups.count <= Self.tableLimit else {
            lines += summary(state)
            lines.append("  " + String(state.last.prefix(110)))
            redraw(lines, &state)
            return
        }
        let done = Set(state.groupStates.filter { $0.value.hasPrefix("done") }.keys)
        let rows = spec.groups.map { group -> [String] in
            let current =
                state.groupStates[group.id]
                ?? (group.dependsOn.allSatisfy(done.contains)
                    ? "ready" : "waiting on \(group.dependsOn.filter { !done.contains($0) }.joined(separator: ", "))")
            return ["  " + group.id, current, String(state.groupAttempts[group.id] ?? 0)]
        }
        lines.append(TextTable(headers: ["  GROUP", "STATE", "ATTEMPT"], rows: rows).render())
        lines.append("  " + String(state.last.prefix(110)))
        redraw(lines, &state)
    }

    /// Missions with more groups than this show counts and the groups in motion instead of every group.
    static let tableLimit = 20

    /// For large missions: how many groups are in each state, then the ones being worked on or blocked.
    private func summary(_ state: State) -> [String] {
        var counts: [String: Int] = [:]
        for value in state.groupStates.values { counts[value, default: 0] += 1 }
        let untouched = spec.groups.count - state.groupStates.count
        let order = [
            "done ✓", "landing (regression verify)", "queued to land", "checking (gate)", "agent working", "retrying",
            "blocked ✗",
        ]
        var parts = order.compactMap { name in counts[name].map { "\($0) \(name)" } }
        parts.append("\(untouched) not started")
        var lines = ["  groups: " + parts.joined(separator: " · ")]
        let moving = state.groupStates.filter { !$0.value.hasPrefix("done") }.sorted { $0.key < $1.key }.prefix(10)
        lines += moving.map { "    \($0.key): \($0.value)" }
        return lines
    }

    private func redraw(_ lines: [String], _ state: inout State) {
        var rows = lines.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(
            String.init
        )
        // Never shrink: blank lines overwrite what a taller frame left below.
        while rows.count < state.linesDrawn { rows.append("") }
        var output = state.linesDrawn > 0 ? "\u{1B}[\(state.linesDrawn)A" : ""
        for row in rows { output += "\u{1B}[2K" + row + "\n" }
        state.linesDrawn = rows.count
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}
