import FlotillaCore
import FlotillaEngine
import Foundation

/// Human renderings of missions, groups and attempts.
enum MissionReports {
    static func status(_ record: MissionRecord, groups: [GroupRecord], targetHead: String?) -> String {
        let spec = record.spec
        var lines: [String] = []
        var state = record.state.rawValue
        if let reason = record.stopReason, reason.rawValue != state { state += " (\(reason.rawValue))" }
        lines.append("Mission \(spec.id) — \(state)")
        lines.append("Goal:     \(spec.goal)")
        lines.append(
            "Target:   \(spec.targetBranch)" + (targetHead.map { " at \($0.shortSHA)" } ?? "")
                + " (base \(spec.baseCommit.shortSHA))"
        )
        var effort =
            "\(spec.agents) × \(spec.backend) · \(record.attempts) attempt\(record.attempts == 1 ? "" : "s") · "
            + formatUSD(record.spentUSD)
        if let elapsed = elapsed(record) { effort += " · \(elapsed.shortDescription)" }
        lines.append("Effort:   \(effort)")
        if let breaker = record.breakerDetail { lines.append("Breaker:  \(breaker)") }
        lines.append("")
        let rows = groups.map { group -> [String] in
            var status = group.status.rawValue
            if group.escalation != .none && group.status != .done { status += " (\(group.escalation.rawValue))" }
            let waitsFor = group.dependsOn.isEmpty ? "" : "after \(group.dependsOn.joined(separator: ", "))"
            let note = group.landedCommit?.shortSHA ?? group.blockedReason ?? waitsFor
            return [group.id, status, String(group.attempts), formatUSD(group.costUSD), note]
        }
        lines.append(TextTable(headers: ["GROUP", "STATUS", "ATTEMPTS", "COST", "LANDED / NOTE"], rows: rows).render())
        return lines.joined(separator: "\n")
    }

    static func list(_ records: [MissionRecord]) -> String {
        let rows = records.map { record -> [String] in
            let groups = "\(record.groupsDone)/\(record.groupsTotal)"
            let goal = String(record.spec.goal.prefix(50))
            return [
                record.spec.id.rawValue, record.state.rawValue, groups, String(record.attempts),
                formatUSD(record.spentUSD), shortDate(record.createdAt), goal,
            ]
        }
        return TextTable(headers: ["MISSION", "STATE", "GROUPS", "ATTEMPTS", "COST", "CREATED", "GOAL"], rows: rows)
            .render()
    }

    static func history(_ attempts: [AttemptRecord]) -> String {
        let rows = attempts.map { attempt -> [String] in
            [
                String(attempt.sequence), attempt.key.description, "agent \(attempt.slot)",
                attempt.outcome?.rawValue ?? attempt.phase.rawValue, formatUSD(attempt.usage.costUSD),
                attempt.agentSeconds.map { Duration.milliseconds(Int64($0 * 1000)).shortDescription } ?? "",
                attempt.gateSeconds.map { Duration.milliseconds(Int64($0 * 1000)).shortDescription } ?? "",
                (attempt.landedCommit ?? attempt.commit)?.shortSHA ?? "",
                attempt.reason.map { String($0.prefix(70)) } ?? "",
            ]
        }
        return TextTable(
            headers: ["#", "ATTEMPT", "SLOT", "OUTCOME", "COST", "AGENT", "GATE", "COMMIT", "REASON"],
            rows: rows
        ).render()
    }

    static func elapsed(_ record: MissionRecord) -> Duration? {
        guard let started = record.startedAt else { return nil }
        let end = record.finishedAt ?? Date()
        return .milliseconds(Int64(end.timeIntervalSince(started) * 1000))
    }

    static func shortDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}
