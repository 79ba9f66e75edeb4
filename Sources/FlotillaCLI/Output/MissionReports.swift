import FlotillaAPI
import FlotillaCore
import FlotillaService
import Foundation

/// Human renderings of missions, groups and attempts.
enum MissionReports {
    /// Works from the JSON form, so a mission reads the same from the ledger and from the daemon.
    static func status(_ mission: MissionDTO) -> String {
        var lines: [String] = []
        var state = mission.state
        if let reason = mission.stopReason, reason != state { state += " (\(reason))" }
        lines.append("Mission \(mission.id) — \(state)")
        lines.append("Goal:     \(mission.goal)")
        lines.append(
            "Target:   \(mission.targetBranch)" + (mission.targetHead.map { " at \($0.shortSHA)" } ?? "")
                + " (base \(mission.baseCommit.shortSHA))"
        )
        var effort =
            "\(mission.agents) × \(mission.backend) · \(mission.attempts) attempt\(mission.attempts == 1 ? "" : "s") · "
            + formatUSD(mission.costUSD)
        if let started = mission.startedAt {
            let end = mission.finishedAt ?? Date()
            effort += " · \(Duration.seconds(bounded: end.timeIntervalSince(started)).shortDescription)"
        }
        lines.append("Effort:   \(effort)")
        if let perCriterion = mission.costPerAcceptedCriterionUSD {
            lines.append("Accepted: \(formatUSD(perCriterion)) per accepted criterion")
        }
        if let breaker = mission.breaker { lines.append("Breaker:  \(breaker)") }
        if let waiting = mission.awaitingApproval, !waiting.isEmpty {
            lines.append(
                "Waiting:  \(waiting.joined(separator: ", ")) for a human: `flotilla history \(mission.id)` shows the "
                    + "diff and gate; `flotilla approve \(mission.id)` or `flotilla reject \(mission.id) --reason …`"
            )
        }
        if mission.state == MissionDTO.crashed {
            lines.append(
                "Crashed:  its process died without finishing it; `flotilla resume \(mission.id)` continues it"
            )
        }
        lines.append("")
        let rows = (mission.groups ?? []).map { group -> [String] in
            var status = group.status
            if group.escalation != "none" && group.status != "done" { status += " (\(group.escalation))" }
            let waitsFor = group.dependsOn.isEmpty ? "" : "after \(group.dependsOn.joined(separator: ", "))"
            var note = group.landedCommit?.shortSHA ?? group.blockedReason ?? waitsFor
            if let addedBy = group.addedBy { note += (note.isEmpty ? "" : " ") + "(added by the \(addedBy))" }
            let perCriterion = group.costPerCriterionUSD.map(formatUSD) ?? ""
            return [group.id, status, String(group.attempts), formatUSD(group.costUSD), perCriterion, note]
        }
        lines.append(
            TextTable(headers: ["GROUP", "STATUS", "ATTEMPTS", "COST", "PER CRITERION", "LANDED / NOTE"], rows: rows)
                .render()
        )
        let judged = (mission.groups ?? []).filter { !($0.typedCriteria ?? []).isEmpty }
        if !judged.isEmpty {
            lines.append("")
            lines.append("Criteria:")
            for group in judged {
                for standing in group.typedCriteria ?? [] { lines.append("  \(group.id).\(standing.summary)") }
            }
        }
        return lines.joined(separator: "\n")
    }

    static func list(_ missions: [MissionDTO]) -> String {
        let rows = missions.map { mission -> [String] in
            [
                mission.id, mission.state, "\(mission.groupsDone)/\(mission.groupsTotal)", String(mission.attempts),
                formatUSD(mission.costUSD), shortDate(mission.createdAt), String(mission.goal.prefix(50)),
            ]
        }
        return TextTable(headers: ["MISSION", "STATE", "GROUPS", "ATTEMPTS", "COST", "CREATED", "GOAL"], rows: rows)
            .render()
    }

    static func history(_ attempts: [AttemptDTO]) -> String {
        let rows = attempts.map { attempt -> [String] in
            [
                String(attempt.sequence), "\(attempt.group)#\(attempt.number)", "agent \(attempt.slot)",
                attempt.backend,
                attempt.outcome ?? attempt.phase, formatUSD(attempt.costUSD),
                attempt.agentSeconds.map { Duration.seconds(bounded: $0).shortDescription } ?? "",
                attempt.gateSeconds.map { Duration.seconds(bounded: $0).shortDescription } ?? "",
                attempt.tests ?? "",
                (attempt.landedCommit ?? attempt.commit)?.shortSHA ?? "",
                attempt.reason.map { String($0.prefix(70)) } ?? "",
            ]
        }
        return TextTable(
            headers: [
                "#", "ATTEMPT", "SLOT", "BACKEND", "OUTCOME", "COST", "AGENT", "GATE", "TESTS", "COMMIT", "REASON",
            ],
            rows: rows
        ).render()
    }

    /// Each attempt's typed criteria as its gate judged them (`history --full`).
    static func criteria(_ attempts: [AttemptDTO]) -> String {
        let rows = attempts.flatMap { attempt in
            (attempt.criteriaResults ?? []).map { result -> [String] in
                [
                    "\(attempt.group)#\(attempt.number)", result.id + (result.required ? "" : " (optional)"),
                    result.status.rawValue, result.value.map(CriteriaCascade.format) ?? "",
                    result.target.map(CriteriaCascade.format) ?? "", String(result.evidence.prefix(70)),
                ]
            }
        }
        guard !rows.isEmpty else { return "\nNo typed criteria were judged." }
        return "\n"
            + TextTable(headers: ["ATTEMPT", "CRITERION", "STATUS", "VALUE", "TARGET", "EVIDENCE"], rows: rows).render()
    }

    static func modelCalls(_ calls: [ModelCallDTO]) -> String {
        let rows = calls.map { call -> [String] in
            [
                call.role, call.attempt.map { "\(call.group ?? "")#\($0)" } ?? "", call.model,
                String(call.inputTokens + call.cacheReadTokens + call.cacheWriteTokens),
                String(call.outputTokens), formatUSD(call.costUSD),
                Duration.milliseconds(call.durationMs).shortDescription,
                call.error.map { String($0.prefix(60)) } ?? "ok",
            ]
        }
        return TextTable(
            headers: ["MODEL CALL", "ATTEMPT", "MODEL", "TOKENS IN", "OUT", "COST", "TIME", "RESULT"],
            rows: rows
        ).render()
    }

    static func notifications(_ notifications: [NotificationDTO]) -> String {
        let rows = notifications.map { item -> [String] in
            let result =
                switch item.state {
                case "delivered": "delivered"
                case "failed": "gave up: " + (item.lastError.map { String($0.prefix(50)) } ?? "")
                default:
                    "pending" + (item.lastError.map { " (last: \(String($0.prefix(40))))" } ?? "")
                }
            return [item.target, item.kind, item.category, item.event, String(item.tries), result]
        }
        return TextTable(
            headers: ["NOTIFICATION", "KIND", "ABOUT", "EVENT", "TRIES", "RESULT"],
            rows: rows
        ).render()
    }

    static func shortDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}
