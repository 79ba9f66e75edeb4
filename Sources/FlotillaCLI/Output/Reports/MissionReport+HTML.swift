import FlotillaAPI
import FlotillaCore
import Foundation

/// The report as one HTML file: inline CSS and SVG, no script and no external reference, so it opens from disk, from
/// a CI artifact or an e-mail the same way.
extension MissionReport {
    package var html: String {
        var body: [String] = []
        body.append("<h1>Mission \(Self.escape(mission.id)): \(Self.escape(mission.goal))</h1>")
        body.append(
            "<p><span class=\"badge \(Self.escape(mission.state))\">\(Self.escape(mission.state))</span> "
                + "\(Self.escape(stopReason ?? "")) — \(Self.escape(headline))</p>"
        )
        var facts = [
            (
                "Target branch",
                "<code>\(Self.escape(mission.targetBranch))</code> at <code>\(Self.short(mission.targetHead))</code>"
            ),
            ("Base commit", "<code>\(Self.short(mission.baseCommit))</code>"),
            ("Verify command", "<code>\(Self.escape(mission.verifyCommand ?? "(groups' own checks)"))</code>"),
            ("Started", Self.escape(Self.timestamp(start))),
            (mission.finishedAt == nil ? "Still running at" : "Ended", Self.escape(Self.timestamp(end))),
        ]
        if let final = finalVerify {
            facts.append(
                (
                    "Final verify",
                    "\(final.passed ? "passed" : "failed") (exit \(final.exitCode.map(String.init) ?? "?")) "
                        + "on <code>\(Self.short(final.commit))</code>"
                )
            )
        }
        if let breaker = mission.breaker { facts.append(("Breaker", Self.escape(breaker))) }
        if let ended = endedByPerson { facts.append(("Ended by a person", Self.escape(ended))) }
        body.append("<dl>" + facts.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined() + "</dl>")

        body.append("<h2>Groups and their evidence</h2>")
        body.append(
            "<table><thead><tr><th>Group</th><th>Status</th><th>Attempts</th><th>Cost</th><th>Check</th>"
                + "<th>Landed commit</th><th>Gate</th><th>Verify after merge</th></tr></thead><tbody>"
        )
        for item in evidence {
            let g = item.group
            body.append(
                "<tr id=\"group-\(Self.escape(g.id))\"><td><code>\(Self.escape(g.id))</code> \(Self.escape(g.title))</td>"
                    + "<td><span class=\"badge \(Self.escape(g.status))\">\(Self.escape(g.status))</span> "
                    + "\(Self.escape(g.blockedReason ?? ""))</td><td class=\"n\">\(g.attempts)</td>"
                    + "<td class=\"n\">\(Self.dollars(g.costUSD))</td><td><code>\(Self.escape(item.check))</code></td>"
                    + "<td><code>\(Self.short(item.landedCommit))</code></td><td>\(item.gate ?? "—")</td>"
                    + "<td>\(item.mergedVerifyExit.map { "exit \($0)" } ?? "—")</td></tr>"
            )
        }
        body.append("</tbody></table>")
        body.append("<h2>Checklist</h2>")
        body.append(dagSVG)
        if !attempts.isEmpty {
            body.append("<h2>Timeline</h2>")
            body.append(timelineSVG)
            body.append("<h2>Cost over time</h2>")
            body.append(costSVG)
        }
        let metrics = metricsSVG
        if !metrics.isEmpty {
            body.append("<h2>Metrics per attempt</h2>")
            body.append(contentsOf: metrics)
        }
        body.append(contentsOf: stepsHTML)
        body.append("<h2>Failures</h2>")
        if failures.isEmpty {
            body.append("<p>No attempt failed.</p>")
        } else {
            body.append(
                "<table><thead><tr><th>Attempt</th><th>Outcome</th><th>Reason</th><th>Cost</th></tr></thead><tbody>"
            )
            for attempt in failures {
                body.append(
                    "<tr><td><code>\(Self.escape(attempt.group))#\(attempt.number)</code></td>"
                        + "<td><span class=\"badge \(Self.escape(attempt.outcome ?? ""))\">\(Self.escape(attempt.outcome ?? ""))</span></td>"
                        + "<td>\(Self.escape(attempt.reason ?? ""))</td><td class=\"n\">\(Self.dollars(attempt.costUSD))</td></tr>"
                )
            }
            body.append("</tbody></table>")
        }
        body.append(
            "<footer>Written by <code>flotilla report \(Self.escape(mission.id))</code> at \(Self.escape(Self.timestamp(madeAt))).</footer>"
        )
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="color-scheme" content="light dark">
            <title>Flotilla mission \(Self.escape(mission.id)): \(Self.escape(mission.goal))</title>
            <style>\(Self.style)</style></head>
            <body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }

    static let style = """
        :root{--fg:#1b1f24;--bg:#fff;--muted:#5b636e;--line:#d5d9de;--done:#1f8a3b;--bad:#c4332b;--run:#d28b00;\
        --wait:#9aa3ad;--other:#7b4fc4;--accent:#2458c6}
        @media (prefers-color-scheme:dark){:root{--fg:#e3e6ea;--bg:#111418;--muted:#9aa3ad;--line:#2c323a;\
        --accent:#7aa7ff}}
        body{font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);max-width:1100px;margin:24px auto;\
        padding:0 16px}
        h1{font-size:22px}h2{font-size:16px;margin-top:28px}code{font:12px ui-monospace,monospace}
        table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid var(--line);padding:4px 8px;\
        text-align:left;vertical-align:top}th{color:var(--muted);font-size:12px}td.n{text-align:right}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dt{color:var(--muted)}dd{margin:0}
        .badge{color:#fff;border-radius:9px;padding:0 7px;font-size:12px;background:var(--wait)}
        .badge.completed,.badge.done,.badge.landed{background:var(--done)}
        .badge.running,.badge.active{background:var(--run)}
        .badge.failed,.badge.blocked,.badge.crashed,.badge.gate_failed,.badge.rejected,.badge.regression,\
        .badge.timed_out,.badge.agent_failed{background:var(--bad)}
        .badge.stopped,.badge.conflict{background:var(--other)}
        svg text{fill:var(--fg);font:11px system-ui,sans-serif}svg .on text{fill:#fff}
        .pending{fill:var(--wait)}.active{fill:var(--run)}.done,.landed{fill:var(--done)}.blocked,.failed{fill:var(--bad)}
        .other{fill:var(--other)}.running{fill:var(--run)}.edge{stroke:var(--muted);fill:none;stroke-opacity:.6}
        .axis{stroke:var(--line)}.curve{stroke:var(--accent);stroke-width:2;fill:none}.limit{stroke:var(--bad);\
        stroke-dasharray:5 4}
        footer{margin-top:32px;color:var(--muted);font-size:12px}
        """

    /// The checklist's DAG, layer by layer, each group coloured by its status.
    var dagSVG: String {
        let groups = mission.groups ?? []
        let (width, height, gap) = (170.0, 24.0, 50.0)
        var rows: [Int: Int] = [:]
        var position: [String: (x: Double, y: Double)] = [:]
        for group in groups {
            let layer = group.layer ?? 0
            let row = rows[layer, default: 0]
            rows[layer] = row + 1
            position[group.id] = (Double(layer) * (width + gap), Double(row) * (height + 8))
        }
        let totalWidth = Double((rows.keys.max() ?? 0) + 1) * (width + gap)
        let totalHeight = Double(rows.values.max() ?? 1) * (height + 8)
        var parts: [String] = []
        for group in groups {
            guard let to = position[group.id] else { continue }
            for dependency in group.dependsOn {
                guard let from = position[dependency] else { continue }
                let (x1, y1, x2, y2) = (from.x + width, from.y + height / 2, to.x, to.y + height / 2)
                parts.append(
                    "<path class=\"edge\" d=\"M\(x1),\(y1) C\(x1 + gap / 2),\(y1) \(x2 - gap / 2),\(y2) \(x2),\(y2)\"/>"
                )
            }
        }
        for group in groups {
            guard let at = position[group.id] else { continue }
            let text = String((group.id + " · " + group.title).prefix(26))
            parts.append(
                "<g class=\"on\" transform=\"translate(\(at.x),\(at.y))\"><rect class=\"\(Self.escape(group.status))\" "
                    + "width=\"\(width)\" height=\"\(height)\" rx=\"5\"/><text x=\"8\" y=\"16\">\(Self.escape(text))</text>"
                    + "<title>\(Self.escape(group.id)): \(Self.escape(group.status))</title></g>"
            )
        }
        return Self.svg(width: totalWidth, height: totalHeight, label: "Checklist DAG", parts)
    }

    /// One lane per agent slot: each attempt from start to end, coloured by its outcome.
    var timelineSVG: String {
        let slots = max(mission.agents, attempts.map(\.slot).max() ?? 1)
        let (width, lane, left) = (900.0, 22.0, 50.0)
        let span = max(duration, 1)
        func x(_ date: Date) -> Double { left + (width - left) * max(0, date.timeIntervalSince(start)) / span }
        var parts: [String] = []
        for slot in 0..<slots {
            let y = Double(slot) * lane
            parts.append("<text x=\"0\" y=\"\(y + 15)\">slot \(slot + 1)</text>")
            parts.append("<line class=\"axis\" x1=\"\(left)\" x2=\"\(width)\" y1=\"\(y + lane)\" y2=\"\(y + lane)\"/>")
        }
        for attempt in attempts {
            let from = x(attempt.startedAt)
            let to = x(attempt.finishedAt ?? end)
            let kind =
                attempt.outcome == nil
                ? "running"
                : attempt.outcome == "landed"
                    ? "landed"
                    : ["conflict", "cancelled", "rate_limited"].contains(attempt.outcome ?? "") ? "other" : "failed"
            parts.append(
                "<rect class=\"\(kind)\" x=\"\(from)\" y=\"\(Double(attempt.slot - 1) * lane + 3)\" "
                    + "width=\"\(max(2, to - from))\" height=\"\(lane - 6)\" rx=\"3\"><title>"
                    + "\(Self.escape(attempt.group))#\(attempt.number): \(Self.escape(attempt.outcome ?? attempt.phase))"
                    + "</title></rect>"
            )
        }
        parts.append("<text x=\"\(width - 60)\" y=\"\(Double(slots) * lane + 14)\">\(Self.duration(duration))</text>")
        return Self.svg(width: width, height: Double(slots) * lane + 18, label: "Agent lanes", parts)
    }

    /// Cumulative cost after each attempt, against the cost limit.
    var costSVG: String {
        let curve = costCurve
        let limit = mission.limits?.maxCostUSD
        let top = max(limit ?? 0, curve.last?.usd ?? 0, 0.0001) * 1.1
        let (width, height, left) = (900.0, 160.0, 60.0)
        let span = max(duration, 1)
        func x(_ date: Date) -> Double { left + (width - left) * max(0, date.timeIntervalSince(start)) / span }
        func y(_ usd: Double) -> Double { height - 16 - (height - 24) * usd / top }
        var path = ""
        for (index, point) in curve.enumerated() {
            path += index == 0 ? "M\(x(point.at)),\(y(point.usd))" : " H\(x(point.at)) V\(y(point.usd))"
        }
        path += " H\(x(end))"
        var parts = [
            "<line class=\"axis\" x1=\"\(left)\" x2=\"\(width)\" y1=\"\(y(0))\" y2=\"\(y(0))\"/>",
            "<text x=\"0\" y=\"\(y(0))\">$0</text>",
            "<text x=\"0\" y=\"\(y(top / 1.1) + 4)\">\(Self.dollars(top / 1.1))</text>",
            "<path class=\"curve\" d=\"\(path)\"/>",
        ]
        if let limit {
            parts.append("<line class=\"limit\" x1=\"\(left)\" x2=\"\(width)\" y1=\"\(y(limit))\" y2=\"\(y(limit))\"/>")
            parts.append("<text x=\"\(left + 4)\" y=\"\(y(limit) - 3)\">cost limit</text>")
        }
        return Self.svg(width: width, height: height, label: "Cost over time", parts)
    }

    static func svg(width: Double, height: Double, label: String, _ parts: [String]) -> String {
        "<svg role=\"img\" aria-label=\"\(label)\" width=\"\(Int(width))\" "
            + "height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\(parts.joined())</svg>"
    }

    /// Text for HTML and SVG: the five characters that could start markup, escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
