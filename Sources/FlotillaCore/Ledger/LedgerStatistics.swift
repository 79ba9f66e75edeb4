/// Counts and durations across every mission of a ledger, for monitoring (`/metrics`).
package struct LedgerStatistics: Sendable, Equatable {
    package var missionsByState: [String: Int] = [:]
    package var attemptsByOutcome: [String: Int] = [:]
    package var costUSD: Double = 0
    /// Verified attempts waiting in a running mission's merge queue.
    package var queueDepth = 0
    /// Attempts whose agent is working right now, in running missions.
    package var activeAgents = 0
    package var gateSeconds = DurationHistogram()
    package var mergeSeconds = DurationHistogram()
    /// The last figure of each typed criterion, in missions running or ended within ``criteriaWindow``.
    package var criterionFigures: [CriterionFigure] = []

    /// How long after its end a mission's criteria are still shown: an hour.
    package static let criteriaWindow: Double = 3600

    package init() {}

    /// Sums statistics of several ledgers (one per repository).
    package mutating func add(_ other: LedgerStatistics) {
        missionsByState.merge(other.missionsByState, uniquingKeysWith: +)
        attemptsByOutcome.merge(other.attemptsByOutcome, uniquingKeysWith: +)
        costUSD += other.costUSD
        queueDepth += other.queueDepth
        activeAgents += other.activeAgents
        gateSeconds.add(other.gateSeconds)
        mergeSeconds.add(other.mergeSeconds)
        criterionFigures += other.criterionFigures
    }
}

/// A typed criterion's last figure in a mission, for `/metrics`.
package struct CriterionFigure: Sendable, Equatable {
    package var mission: String
    package var group: String
    package var criterion: String
    package var value: Double
    package var target: Double?

    package init(mission: String, group: String, criterion: String, value: Double, target: Double?) {
        self.mission = mission
        self.group = group
        self.criterion = criterion
        self.value = value
        self.target = target
    }
}

/// A cumulative histogram of durations in seconds, with fixed bucket bounds.
package struct DurationHistogram: Sendable, Equatable {
    /// Upper bounds in seconds; gates and merges range from milliseconds to the verify timeout.
    package static let bounds: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800]

    /// `cumulativeCounts[i]` = observations ≤ `bounds[i]`.
    package var cumulativeCounts: [Int] = Array(repeating: 0, count: DurationHistogram.bounds.count)
    package var count = 0
    package var sum: Double = 0

    package init() {}

    package mutating func observe(_ seconds: Double) {
        for (index, bound) in Self.bounds.enumerated() where seconds <= bound { cumulativeCounts[index] += 1 }
        count += 1
        sum += seconds
    }

    package mutating func add(_ other: DurationHistogram) {
        for index in cumulativeCounts.indices { cumulativeCounts[index] += other.cumulativeCounts[index] }
        count += other.count
        sum += other.sum
    }
}
