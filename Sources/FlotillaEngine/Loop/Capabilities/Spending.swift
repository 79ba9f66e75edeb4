import FlotillaCore
import Foundation

/// What the mission has spent, and what one more attempt is expected to cost: the cost breaker and each session's
/// budget read them.
struct Spending: LoopCapability {
    var spentUSD: Double
    var estimator: CostEstimator
    /// `[limits] daily_cost_usd` with the other missions' spending, as last read from the ledger.
    var daily: DailyCostLimit?

    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] {
        switch event {
        case .attemptEnded(_, let result):
            let cost = result.evidence.costUSD
            spentUSD += cost
            if cost > 0 && view.stopping == nil { estimator.record(costUSD: cost) }
        case .charged(let cost):
            spentUSD += cost
        default:
            break
        }
        return []
    }
}

extension Spending {
    init(_ snapshot: MissionSnapshot) {
        var estimator = CostEstimator()
        for attempt in snapshot.attempts where attempt.usage.costUSD > 0 {
            estimator.record(costUSD: attempt.usage.costUSD)
        }
        // An attempt's cost includes the models it consulted; planning and objective checks belong to no attempt.
        self.init(
            spentUSD: snapshot.attempts.reduce(0) { $0 + $1.usage.costUSD }
                + snapshot.missionCalls.reduce(0) { $0 + $1.call.usage.costUSD },
            estimator: estimator
        )
    }
}
