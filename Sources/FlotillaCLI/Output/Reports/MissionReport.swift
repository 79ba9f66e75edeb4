import FlotillaAPI
import FlotillaCore
import Foundation

/// A mission, told for people who were not watching.
///
/// What was asked, what landed with which evidence, what failed and why, and where the time and money went. Rendered
/// as Markdown (`+Markdown`, for a pull request or a CI summary)
/// or as one self-contained HTML file (`+HTML`, with inline SVG and no external reference).
///
/// Built only from what the API gives (the mission, its attempts, its events), so it reads the same from a
/// repository's ledger or a daemon.
package struct MissionReport: Sendable {
    package let mission: MissionDTO
    package let attempts: [AttemptDTO]
    package let events: [EventDTO]
    /// When the report was made: the end of the timeline of a mission still running.
    package let madeAt: Date

    package init(mission: MissionDTO, attempts: [AttemptDTO], events: [EventDTO], madeAt: Date = Date()) {
        self.mission = mission
        self.attempts = attempts
        self.events = events
        self.madeAt = madeAt
    }

    /// Where a group stands, with the evidence that it holds.
    package struct Evidence: Sendable {
        package var group: GroupDTO
        /// The command that decides the group: its own check, or the mission's verify command.
        package var check: String
        /// The attempt that landed, its gate's exit status and time, and the verify of the merged commit.
        package var landedAttempt: Int?
        package var gateExit: Int?
        package var gateMilliseconds: Int?
        package var mergedVerifyExit: Int?
        package var landedCommit: String?
        /// What the landed attempt's tests did in its gate, as Flotilla saw them.
        package var tests: [TestEvidence]?

        /// "exit 0 in 21 ms (attempt 2); 2 passed (pytest)", once the group landed.
        var gate: String? {
            gateExit.map {
                "exit \($0)" + (gateMilliseconds.map { " in \($0) ms" } ?? "")
                    + (landedAttempt.map { " (attempt \($0))" } ?? "")
                    + (tests.flatMap { $0.isEmpty ? nil : "; " + $0.summary } ?? "")
            }
        }
    }

    package var evidence: [Evidence] {
        (mission.groups ?? []).map { group in
            var item = Evidence(group: group, check: group.check ?? mission.verifyCommand ?? "(no verify command)")
            item.landedCommit = group.landedCommit
            if let landed = events.last(where: { $0.kind == "attempt.landed" && $0.group == group.id }) {
                item.landedAttempt = landed.attempt
                item.mergedVerifyExit = landed.payload(MissionEvent.AttemptLanded.self)?.regression.exitCode
                if let gate = events.last(where: {
                    $0.kind == "gate.passed" && $0.group == group.id && $0.attempt == landed.attempt
                })?.payload(MissionEvent.Verified.self) {
                    item.gateExit = gate.exitCode
                    item.gateMilliseconds = Int(gate.durationMS)
                    item.tests = gate.tests
                }
            }
            return item
        }
    }

    /// The attempts that did not land, with why.
    package var failures: [AttemptDTO] { attempts.filter { $0.outcome != nil && $0.outcome != "landed" } }

    /// The verify of the final target head, when the mission got that far.
    package var finalVerify: MissionEvent.Verified? {
        events.last { $0.kind == "verify.final" }?.payload(MissionEvent.Verified.self)
    }

    var start: Date { mission.startedAt ?? mission.createdAt }
    var end: Date { mission.finishedAt ?? max(madeAt, start) }
    var duration: TimeInterval { max(0, end.timeIntervalSince(start)) }

    /// Cumulative cost after each attempt that finished, in time order, from zero at the start.
    var costCurve: [(at: Date, usd: Double)] {
        var total = 0.0
        return [(start, 0)]
            + attempts.compactMap { attempt in attempt.finishedAt.map { ($0, attempt.costUSD) } }
            .sorted { $0.0 < $1.0 }
            .map { at, cost in
                total += cost
                return (at, total)
            }
    }

    /// Why the mission stopped, when that says more than its state.
    var stopReason: String? { mission.stopReason.flatMap { $0 == mission.state ? nil : $0 } }

    /// How a person ended the mission (`stop --complete --reason`, `stop --terminate`), as its last end was recorded.
    var endedByPerson: String? {
        guard
            mission.stopReason == StopReason.forcedComplete.rawValue
                || mission.stopReason == StopReason.terminated.rawValue
        else {
            return nil
        }
        return events.last { $0.kind == EventKind.missionFinished.rawValue }?.message
    }

    var headline: String {
        var parts = ["\(mission.groupsDone)/\(mission.groupsTotal) groups landed", "\(mission.attempts) attempts"]
        parts.append(
            Self.dollars(mission.costUSD) + (mission.limits?.maxCostUSD.map { " of " + Self.dollars($0) } ?? "")
        )
        parts.append(Self.duration(duration))
        return parts.joined(separator: " · ")
    }

    static func dollars(_ usd: Double) -> String { String(format: usd >= 1 ? "$%.2f" : "$%.4f", usd) }

    static func duration(_ seconds: TimeInterval) -> String {
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        if seconds < 3600 { return "\(Int(seconds) / 60) min \(Int(seconds) % 60) s" }
        return "\(Int(seconds) / 3600) h \(Int(seconds) % 3600 / 60) min"
    }

    static func short(_ commit: String?) -> String { commit.map { String($0.prefix(12)) } ?? "—" }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().timeSeparator(.colon).time(includingFractionalSeconds: false))
    }
}
