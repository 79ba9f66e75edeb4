/// The best figure each metric of a group has reached, and whether a gate's figures improved on it.
///
/// A metric that beats its best towards its target by more than ``epsilon`` of the gap its best still left is
/// progress for the stall rule although it is not met yet: GCO's trend, as progress rather than as a pass condition.
/// Metrics compared with `==` or `!=` have no direction and never count; a first figure sets the best and is not
/// progress (there was nothing to improve on). The figures are Flotilla's own probe runs, never an agent's report.
package struct MetricBests: Sendable, Equatable {
    /// The share of the remaining gap an improvement must exceed: 1 %.
    package static let epsilon = 0.01

    /// Criterion id → whether lower figures are better, for the group's metrics that have a direction.
    package let directions: [String: Bool]
    package private(set) var best: [String: Double] = [:]

    package init(directions: [String: Bool]) {
        self.directions = directions
    }

    /// The directions of `group`'s metrics, as its checklist lines compile.
    package init(_ group: ChecklistGroup) {
        var directions: [String: Bool] = [:]
        for criterion in group.typedCriteria {
            guard case .metric(let metric)? = try? criterion.compiled(), let lower = metric.comparison.lowerIsBetter
            else { continue }
            directions[criterion.id] = lower
        }
        self.init(directions: directions)
    }

    /// Takes in a gate's results for the group; returns the metrics that improved on their best by more than
    /// ``epsilon`` of the gap to their target, in the order given.
    @discardableResult
    package mutating func record(_ results: [CriterionResult]) -> [String] {
        var improved: [String] = []
        for result in results where result.kind == .metric {
            guard let lower = directions[result.id], let value = result.value, value.isFinite else { continue }
            guard let previous = best[result.id] else {
                best[result.id] = value
                continue
            }
            let gain = lower ? previous - value : value - previous
            guard gain > 0 else { continue }
            best[result.id] = value
            // The gap the best left; without a target (unreadable), the best's own size.
            let gap = result.target.map { lower ? previous - $0 : $0 - previous } ?? abs(previous)
            if gap > 0 && gain > Self.epsilon * gap { improved.append(result.id) }
        }
        return improved
    }
}
