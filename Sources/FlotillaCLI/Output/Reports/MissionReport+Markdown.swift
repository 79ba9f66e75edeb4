import FlotillaAPI
import FlotillaCore
import Foundation

/// The report as Markdown: tables, and Mermaid diagrams (the DAG, the timeline, the cost) that GitHub and GitLab draw.
extension MissionReport {
    package var markdown: String {
        var out: [String] = []
        out.append("# Flotilla mission \(mission.id): \(Self.inline(mission.goal))")
        out.append("")
        out.append("**\(mission.state)**\(stopReason.map { " (\($0))" } ?? "") — \(headline)")
        out.append("")
        out.append(
            "- Target branch `\(mission.targetBranch)` at `\(Self.short(mission.targetHead))`, from `\(Self.short(mission.baseCommit))`"
        )
        out.append("- Verify command: `\(Self.inline(mission.verifyCommand ?? "(groups' own checks)"))`")
        if let final = finalVerify {
            out.append(
                "- Final verify of `\(Self.short(final.commit))`: \(final.passed ? "passed" : "failed") (exit \(final.exitCode.map(String.init) ?? "?"))"
            )
        }
        if let breaker = mission.breaker { out.append("- Breaker: \(Self.inline(breaker))") }
        if let ended = endedByPerson { out.append("- **Ended by a person**: \(Self.inline(ended))") }
        out.append(
            "- Started \(Self.timestamp(start)); \(mission.finishedAt == nil ? "still running at \(Self.timestamp(end))" : "ended \(Self.timestamp(end))")"
        )
        out.append("")
        out.append("## Groups and their evidence")
        out.append("")
        out.append("| Group | Status | Attempts | Cost | Check | Landed commit | Gate | Verify after merge |")
        out.append("|---|---|---:|---:|---|---|---|---|")
        for item in evidence {
            let g = item.group
            out.append(
                "| `\(g.id)` \(Self.cell(g.title)) | \(g.status)\(g.blockedReason.map { ": " + Self.cell($0) } ?? "") | \(g.attempts) | \(Self.dollars(g.costUSD)) | `\(Self.cell(item.check))` | `\(Self.short(item.landedCommit))` | \(item.gate ?? "—") | \(item.mergedVerifyExit.map { "exit \($0)" } ?? "—") |"
            )
        }
        out.append("")
        out.append("## Checklist")
        out.append("")
        out.append("```mermaid")
        out.append("graph LR")
        for g in mission.groups ?? [] {
            out.append("  \(Self.node(g.id))[\"\(Self.label(g.id + " - " + g.title))\"]:::\(g.status)")
            for dependency in g.dependsOn { out.append("  \(Self.node(dependency)) --> \(Self.node(g.id))") }
        }
        out.append("  classDef done fill:#1f8a3b,color:#fff")
        out.append("  classDef blocked fill:#c4332b,color:#fff")
        out.append("  classDef active fill:#d28b00,color:#fff")
        out.append("  classDef pending fill:#9aa3ad,color:#fff")
        out.append("```")
        if !attempts.isEmpty {
            out.append("")
            out.append("## Timeline")
            out.append("")
            out.append("```mermaid")
            out.append("gantt")
            out.append("  dateFormat X")
            out.append("  axisFormat %H:%M:%S")
            for slot in Set(attempts.map(\.slot)).sorted() {
                out.append("  section slot \(slot)")
                for attempt in attempts where attempt.slot == slot {
                    let begin = Int(attempt.startedAt.timeIntervalSince1970)
                    let seconds = max(
                        1,
                        Int((attempt.finishedAt ?? end).timeIntervalSince(attempt.startedAt).rounded())
                    )
                    let tag = attempt.outcome == "landed" ? "done, " : attempt.outcome == nil ? "active, " : "crit, "
                    out.append(
                        "  \(Self.label("\(attempt.group)#\(attempt.number) \(attempt.outcome ?? attempt.phase)")) :\(tag)\(begin), \(seconds)s"
                    )
                }
            }
            out.append("```")
            out.append("")
            out.append("## Cost over time")
            out.append("")
            let curve = costCurve
            out.append("```mermaid")
            out.append("xychart-beta")
            out.append("  title \"Cumulative cost (USD) after each attempt\"")
            out.append("  x-axis [" + curve.indices.map { String($0) }.joined(separator: ", ") + "]")
            out.append(
                "  y-axis \"USD\" 0 --> \(String(format: "%.4f", max(mission.limits?.maxCostUSD ?? 0, curve.last?.usd ?? 0, 0.0001)))"
            )
            out.append("  line [" + curve.map { String(format: "%.4f", $0.usd) }.joined(separator: ", ") + "]")
            out.append("```")
        }
        out.append("")
        let metrics = metricsMarkdown
        if !metrics.isEmpty {
            out.append("## Metrics per attempt")
            out.append("")
            out.append(contentsOf: metrics)
        }
        out.append(contentsOf: stepsMarkdown)
        out.append("## Failures")
        out.append("")
        if failures.isEmpty {
            out.append("No attempt failed.")
        } else {
            out.append("| Attempt | Outcome | Reason | Cost |")
            out.append("|---|---|---|---:|")
            for attempt in failures {
                out.append(
                    "| `\(attempt.group)#\(attempt.number)` | \(attempt.outcome ?? "") | \(Self.cell(attempt.reason ?? "")) | \(Self.dollars(attempt.costUSD)) |"
                )
            }
        }
        out.append("")
        out.append("<sub>Written by `flotilla report \(mission.id)` at \(Self.timestamp(madeAt)).</sub>")
        return out.joined(separator: "\n") + "\n"
    }

    /// Text in a table cell: one line, no pipe, no HTML.
    static func cell(_ text: String) -> String {
        inline(text).replacingOccurrences(of: "|", with: "\\|")
    }

    /// Text on one line, with what Markdown would read as HTML neutralised.
    static func inline(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// A Mermaid node id: letters and digits only.
    static func node(_ id: String) -> String {
        "g_" + String(id.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : "_" })
    }

    /// A Mermaid label: no quotes, colons or brackets that would end it.
    static func label(_ text: String) -> String {
        String(inline(text).map { "\"#;:[]{}".contains($0) ? " " : $0 }.prefix(80))
    }
}
