import FlotillaCore
import Foundation

/// Renders metrics in the Prometheus text exposition format (version 0.0.4).
package struct PrometheusText {
    private var lines: [String] = []

    package init() {}

    package var text: String { lines.joined(separator: "\n") + "\n" }

    package mutating func gauge(_ name: String, help: String, _ samples: [([(String, String)], Double)]) {
        family(name, type: "gauge", help: help, samples)
    }

    package mutating func counter(_ name: String, help: String, _ samples: [([(String, String)], Double)]) {
        family(name, type: "counter", help: help, samples)
    }

    package mutating func histogram(_ name: String, help: String, _ histogram: DurationHistogram) {
        lines.append("# HELP \(name) \(help)")
        lines.append("# TYPE \(name) histogram")
        for (bound, count) in zip(DurationHistogram.bounds, histogram.cumulativeCounts) {
            lines.append("\(name)_bucket{le=\"\(Self.number(bound))\"} \(count)")
        }
        lines.append("\(name)_bucket{le=\"+Inf\"} \(histogram.count)")
        lines.append("\(name)_sum \(Self.number(histogram.sum))")
        lines.append("\(name)_count \(histogram.count)")
    }

    private mutating func family(
        _ name: String,
        type: String,
        help: String,
        _ samples: [([(String, String)], Double)]
    ) {
        lines.append("# HELP \(name) \(help)")
        lines.append("# TYPE \(name) \(type)")
        for (labels, value) in samples {
            let rendered =
                labels.isEmpty
                ? "" : "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
            lines.append("\(name)\(rendered) \(Self.number(value))")
        }
    }

    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func escape(_ label: String) -> String {
        label.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// What the server itself counts: requests by route and status, webhook deliveries by result.
package actor ServerCounters {
    private var requests: [String: [Int: Int]] = [:]
    private var deliveries: [String: Int] = [:]

    package init() {}

    package func request(route: String, status: Int) {
        requests[route, default: [:]][status, default: 0] += 1
    }

    package func delivery(_ result: String) {
        deliveries[result, default: 0] += 1
    }

    package func render(into text: inout PrometheusText) {
        text.counter(
            "flotilla_http_requests_total",
            help: "HTTP requests answered, by route and status.",
            requests.keys.sorted().flatMap { route in
                requests[route, default: [:]].keys.sorted().map { status in
                    ([("route", route), ("status", String(status))], Double(requests[route]?[status] ?? 0))
                }
            }
        )
        text.counter(
            "flotilla_webhook_deliveries_total",
            help: "Webhook deliveries, by result (accepted, duplicate, unauthorized, rate_limited, invalid, …).",
            deliveries.keys.sorted().map { ([("result", $0)], Double(deliveries[$0] ?? 0)) }
        )
    }
}

extension LedgerStatistics {
    /// The ledger-derived metrics.
    package func render(into text: inout PrometheusText) {
        let states = ["created", "running", "crashed", "completed", "blocked", "failed", "stopped"]
        text.gauge(
            "flotilla_missions",
            help: "Missions, by state (crashed: running, but its process is gone).",
            states.map { ([("state", $0)], Double(missionsByState[$0] ?? 0)) }
        )
        let outcomes = Set(attemptsByOutcome.keys).union([
            "landed", "gate_failed", "rejected", "conflict", "regression", "timed_out", "agent_failed", "interrupted",
            "running",
        ])
        text.counter(
            "flotilla_attempts_total",
            help: "Attempts, by outcome (running: not finished yet).",
            outcomes.sorted().map { ([("outcome", $0)], Double(attemptsByOutcome[$0] ?? 0)) }
        )
        text.counter("flotilla_cost_usd_total", help: "Money spent by agents, in US dollars.", [([], costUSD)])
        text.gauge(
            "flotilla_merge_queue_depth",
            help: "Verified attempts waiting to land, in running missions.",
            [([], Double(queueDepth))]
        )
        text.gauge("flotilla_active_agents", help: "Agent sessions running now.", [([], Double(activeAgents))])
        let labels = { (figure: CriterionFigure) in
            [("mission", figure.mission), ("group", figure.group), ("criterion", figure.criterion)]
        }
        text.gauge(
            "flotilla_criterion_value",
            help: "A typed criterion's last figure, as Flotilla's own probes measured it (missions running or ended "
                + "within the hour).",
            criterionFigures.map { (labels($0), $0.value) }
        )
        text.gauge(
            "flotilla_criterion_target",
            help: "The figure a typed criterion's metric is held against (base * k worked out).",
            criterionFigures.compactMap { figure in figure.target.map { (labels(figure), $0) } }
        )
        text.histogram("flotilla_gate_duration_seconds", help: "Time the gate took per attempt.", gateSeconds)
        text.histogram(
            "flotilla_merge_duration_seconds",
            help: "Time from entering the merge queue to landing or rejection.",
            mergeSeconds
        )
    }
}
