import FlotillaCore
import Foundation

/// The benchmark table for people.
package enum BenchmarkReport {
    package static func table(_ report: BenchmarkSuite.Report) -> String {
        var lines = ["Machine: \(report.machine)", ""]
        let header = [
            "scenario", "G", "A", "outcome", "wall s", "att/s", "merge/s", "landed/min", "sched p50 ms", "sched p95 ms",
            "overhead p50 ms", "verif/group", "RSS MB", "ledger KB", "floor s", "×floor",
        ]
        var rows: [[String]] = []
        for result in report.scenarios {
            let scenario = result.scenario
            rows.append([
                scenario.name, String(scenario.groups), String(scenario.agents), result.outcome,
                fixed(result.wallSeconds, 2), fixed(result.attemptsPerSecond, 1), fixed(result.mergesPerSecond, 1),
                fixed(result.landedPerMinute, 0), fixed(result.schedulingLatencyMedianMS, 1),
                fixed(result.schedulingLatencyP95MS, 1), fixed(result.overheadMedianMS, 1),
                fixed(result.verificationsPerLandedGroup, 2), fixed(result.peakRSSMB, 0),
                String(result.ledgerBytes / 1024), result.floorSeconds.map { fixed($0, 2) } ?? "",
                result.floorRatio.map { fixed($0, 2) } ?? "",
            ])
        }
        lines.append(Self.render(header, rows))
        // A scenario with probes beside the same one without: what a probe and a metric cost per attempt.
        for result in report.scenarios where result.scenario.probes == true {
            let name = String(result.scenario.name.dropLast("-probes".count))
            guard result.scenario.name.hasSuffix("-probes"),
                let plain = report.scenarios.first(where: { $0.scenario.name == name }),
                result.attemptsPerSecond > 0, plain.attemptsPerSecond > 0
            else { continue }
            let added = 1000 / result.attemptsPerSecond - 1000 / plain.attemptsPerSecond
            lines.append(
                "Probes: \(result.scenario.name) takes \(fixed(added, 1)) ms more per attempt than \(name) "
                    + "(a probe and a metric per group, run at each gate and landing; wall time per attempt, "
                    + "\(fixed(result.wallSeconds / plain.wallSeconds, 2))× its wall time)"
            )
        }
        if let startup = report.startup {
            lines.append("")
            lines.append(
                "Start-up (median of \(startup.runs) runs): flotilla --version \(fixed(startup.versionMedianMS, 1)) ms; "
                    + "flotilla status --output json with \(startup.missionsInLedger) missions in the ledger "
                    + "\(fixed(startup.statusJSONMedianMS, 1)) ms"
            )
        }
        if let sandbox = report.sandbox {
            lines.append("")
            if let skipped = sandbox.skipped {
                lines.append("Sandbox: not measured (\(skipped))")
            } else {
                lines.append(
                    "Sandbox cost per confined process (a shell writing one file; median of \(sandbox.runs) runs, "
                        + "unconfined \(fixed(sandbox.unconfinedP50MS, 1)) ms):"
                )
                let rows = sandbox.policies.map { policy in
                    [policy.name, fixed(policy.p50MS, 1), fixed(policy.p90MS, 1), fixed(policy.addedP50MS, 1)]
                }
                lines.append(Self.render(["policy", "p50 ms", "p90 ms", "added p50 ms"], rows))
                if let perAttempt = sandbox.addedPerAttemptP50MS {
                    lines.append(
                        "Added per attempt (a session with the allowlist, a gate without network): "
                            + "\(fixed(perAttempt, 1)) ms p50"
                    )
                }
                if let asRun = sandbox.addedPerAttemptAsRunP50MS {
                    lines.append(
                        "Added per attempt as missions run them (settings watched, harness read-only): "
                            + "\(fixed(asRun, 1)) ms p50"
                    )
                }
            }
        }
        if let webhook = report.webhook {
            lines.append("")
            lines.append("Webhook on loopback (flotilla serve, one connection per request):")
            let rows = webhook.phases.map { phase in
                [
                    phase.name, String(phase.requests), String(phase.concurrency), fixed(phase.requestsPerSecond, 0),
                    fixed(phase.p50MS, 2), fixed(phase.p99MS, 2),
                    phase.statuses.keys.sorted().map { "\($0)×\(phase.statuses[$0] ?? 0)" }.joined(separator: " "),
                ]
            }
            lines.append(Self.render(["phase", "requests", "clients", "req/s", "p50 ms", "p99 ms", "statuses"], rows))
        }
        return lines.joined(separator: "\n")
    }

    static func fixed(_ value: Double, _ places: Int) -> String {
        String(format: "%.\(places)f", value)
    }

    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == 0
                    ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
