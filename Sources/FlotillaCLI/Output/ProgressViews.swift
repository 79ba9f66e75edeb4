import FlotillaCore
import FlotillaEngine
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

    private let spec: MissionSpec
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    init(spec: MissionSpec) {
        self.spec = spec
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
        let slot = event.data["slot"]?.numberValue.map { Int($0) }
        switch event.kind {
        case .attemptStarted:
            state.attempts += 1
            state.groupAttempts[group] = event.attempt ?? 0
            if let slot { state.slots[slot] = "\(group)#\(event.attempt ?? 0)" }
            state.groupStates[group] = "agent working"
        case .agentFinished:
            state.costUSD += event.data["cost_usd"]?.numberValue ?? 0
            state.groupStates[group] = "checking (gate)"
        case .gatePassed:
            freeSlot(of: group, in: &state)
            state.groupStates[group] = "queued to land"
        case .mergeStarted:
            state.groupStates[group] = "landing (regression verify)"
        case .attemptLanded:
            state.groupStates[group] = "done ✓"
        case .attemptFailed:
            freeSlot(of: group, in: &state)
            let status = event.data["group_status"]?.stringValue
            state.groupStates[group] = status == "blocked" ? "blocked ✗" : "retrying"
            for case .string(let dependent) in event.data["blocked_dependents"].flatMap(arrayValue) ?? [] {
                state.groupStates[dependent] = "blocked ✗"
            }
        case .missionFinished:
            state.finished = true
        default:
            break
        }
    }

    private func arrayValue(_ value: JSONValue) -> [JSONValue]? {
        if case .array(let values) = value { return values }
        return nil
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
        let done = Set(state.groupStates.filter { $0.value.hasPrefix("done") }.keys)
        let rows = spec.checklist.groups.map { group -> [String] in
            let current =
                state.groupStates[group.id]
                ?? (group.dependsOn.allSatisfy(done.contains)
                    ? "ready" : "waiting on \(group.dependsOn.filter { !done.contains($0) }.joined(separator: ", "))")
            return ["  " + group.id, current, String(state.groupAttempts[group.id] ?? 0)]
        }
        lines.append(TextTable(headers: ["  GROUP", "STATE", "ATTEMPT"], rows: rows).render())
        lines.append("  " + String(state.last.prefix(110)))
        var output = ""
        if state.linesDrawn > 0 { output += "\u{1B}[\(state.linesDrawn)A" }
        for line in lines.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            output += "\u{1B}[2K" + line + "\n"
        }
        state.linesDrawn = lines.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false).count
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}
