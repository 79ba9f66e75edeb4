import FlotillaAPI
import FlotillaCore
import Foundation

/// Each metric's figure over the attempts whose gate measured it, against its target: a plot per metric.
extension MissionReport {
    /// One metric of one group: the figures its gates measured, in attempt order.
    struct MetricSeries {
        var group: String
        var criterion: String
        /// `group#number` and the figure its gate measured.
        var points: [(attempt: AttemptKey, value: Double)]
        var target: Double?
    }

    /// The metrics the attempts' gates measured, group by group, in the order first measured.
    var metricSeries: [MetricSeries] {
        var series: [MetricSeries] = []
        for attempt in attempts.sorted(by: { $0.sequence < $1.sequence }) {
            for result in attempt.criteriaResults ?? [] where result.kind == .metric {
                guard let value = result.value, value.isFinite else { continue }
                let label = AttemptKey(group: attempt.group, number: attempt.number)
                if let index = series.firstIndex(where: { $0.group == result.group && $0.criterion == result.id }) {
                    series[index].points.append((label, value))
                    if let target = result.target { series[index].target = target }
                } else {
                    series.append(
                        MetricSeries(
                            group: result.group,
                            criterion: result.id,
                            points: [(label, value)],
                            target: result.target
                        )
                    )
                }
            }
        }
        return series
    }

    /// Mermaid line charts, one per metric: the figure, and the target as a second, flat line.
    var metricsMarkdown: [String] {
        var out: [String] = []
        for series in metricSeries {
            let values = series.points.map(\.value) + (series.target.map { [$0] } ?? [])
            let (low, high) = (min(0, values.min() ?? 0), max(values.max() ?? 1, 1e-9))
            out.append("```mermaid")
            out.append("xychart-beta")
            out.append("  title \"\(Self.label("\(series.group) / \(series.criterion)")) per attempt\"")
            out.append(
                "  x-axis [" + series.points.map { "\"attempt \($0.attempt.number)\"" }.joined(separator: ", ") + "]"
            )
            out.append(
                "  y-axis \"\(Self.label(series.criterion))\" \(Self.figure(low)) --> \(Self.figure(high * 1.1))"
            )
            out.append("  line [" + series.points.map { Self.figure($0.value) }.joined(separator: ", ") + "]")
            if let target = series.target {
                out.append("  line [" + series.points.map { _ in Self.figure(target) }.joined(separator: ", ") + "]")
            }
            out.append("```")
            out.append("")
        }
        return out
    }

    /// SVG line charts, one per metric, the target dashed.
    var metricsSVG: [String] {
        metricSeries.map { series in
            let (width, height, left) = (900.0, 140.0, 70.0)
            let values = series.points.map(\.value) + (series.target.map { [$0] } ?? [])
            let low = min(0, values.min() ?? 0)
            let top = max(values.max() ?? 1, 1e-9) * 1.1
            let step = (width - left - 20) / Double(max(series.points.count - 1, 1))
            func x(_ index: Int) -> Double { left + Double(index) * step }
            func y(_ value: Double) -> Double { height - 20 - (height - 30) * (value - low) / max(top - low, 1e-9) }
            var parts = [
                "<line class=\"axis\" x1=\"\(left)\" x2=\"\(width)\" y1=\"\(y(low))\" y2=\"\(y(low))\"/>",
                "<text x=\"0\" y=\"\(y(low))\">\(Self.figure(low))</text>",
                "<text x=\"0\" y=\"\(y(top / 1.1) + 4)\">\(Self.figure(top / 1.1))</text>",
            ]
            let path = series.points.indices.map { "\($0 == 0 ? "M" : "L")\(x($0)),\(y(series.points[$0].value))" }
            parts.append("<path class=\"curve\" d=\"\(path.joined(separator: " "))\"/>")
            for (index, point) in series.points.enumerated() {
                parts.append("<circle class=\"landed\" cx=\"\(x(index))\" cy=\"\(y(point.value))\" r=\"3\"/>")
                parts.append(
                    "<text x=\"\(x(index) - 12)\" y=\"\(height - 4)\">\(Self.escape(point.attempt.description))</text>"
                )
            }
            if let target = series.target {
                parts.append(
                    "<line class=\"limit\" x1=\"\(left)\" x2=\"\(width)\" y1=\"\(y(target))\" y2=\"\(y(target))\"/>"
                )
                parts.append("<text x=\"\(width - 60)\" y=\"\(y(target) - 3)\">target \(Self.figure(target))</text>")
            }
            let label = "\(series.group): \(series.criterion) per attempt"
            return "<h3>\(Self.escape(label))</h3>" + Self.svg(width: width, height: height, label: label, parts)
        }
    }

    /// A figure as the charts write it: a whole number, or four decimals; never an exponent, which Mermaid cannot read.
    static func figure(_ value: Double) -> String {
        let rounded = (value * 10_000).rounded() / 10_000
        guard rounded.isFinite else { return "0" }
        return rounded == rounded.rounded() && abs(rounded) < 1e15
            ? String(Int64(rounded)) : String(format: "%.4f", rounded)
    }
}
