/// What the mission loop knows when it decides what to do next.
package struct DispatchContext: Sendable, Equatable {
    package var idleSlots: Int
    /// Attempts that have started and not finished, including those waiting in the merge queue.
    package var inFlight: Int
    /// Attempts whose agent may still be spending money.
    package var runningAttempts: Int
    package var spentUSD: Double
    /// The moving estimate of one more attempt's cost.
    package var estimatedAttemptUSD: Double
    package var attemptsStarted: Int
    /// Running time of the mission so far.
    package var elapsed: Duration
    package var limits: MissionLimits
    package var stopRequested: Bool
    /// `flotilla step`'s allowance: no attempt starts once this many have started in all (the mission then pauses).
    package var pauseAfterAttempts: Int?
    /// A breaker that already tripped: nothing more is dispatched, running work finishes.
    package var tripped: BreakerTrip?
    /// With footprints, ready groups expected to touch the files of running ones wait while others can run.
    package var footprints: Footprints?
    package var runningGroups: [String] = []
    /// `[limits] daily_cost_usd`, with what the ledger's other missions spent in the last 24 hours.
    package var dailyCost: DailyCostLimit?

    package init(
        idleSlots: Int,
        inFlight: Int,
        runningAttempts: Int,
        spentUSD: Double,
        estimatedAttemptUSD: Double,
        attemptsStarted: Int,
        elapsed: Duration,
        limits: MissionLimits,
        stopRequested: Bool = false,
        tripped: BreakerTrip? = nil
    ) {
        self.idleSlots = idleSlots
        self.inFlight = inFlight
        self.runningAttempts = runningAttempts
        self.spentUSD = spentUSD
        self.estimatedAttemptUSD = estimatedAttemptUSD
        self.attemptsStarted = attemptsStarted
        self.elapsed = elapsed
        self.limits = limits
        self.stopRequested = stopRequested
        self.tripped = tripped
    }
}

/// A breaker decision with the figures that explain it.
package struct BreakerTrip: Sendable, Equatable, CustomStringConvertible {
    package var reason: StopReason
    package var detail: String

    package init(reason: StopReason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    package var description: String { "\(reason.rawValue): \(detail)" }
}

/// The loop's next move.
package enum NextStep: Sendable, Equatable {
    /// Start attempts on these groups, one per idle slot, in this order.
    case dispatch([String])
    /// Work is in flight; wait for the next result.
    case wait
    /// Every group landed: run the final full verify.
    case finalVerify
    /// End the mission.
    case finish(StopReason)
}

/// The pure decision at the heart of the loop: dispatch, wait, verify or finish, checking the breakers
/// before every dispatch.
package enum Dispatcher {
    package static func next(
        _ progress: MissionProgress,
        _ context: DispatchContext
    ) -> (step: NextStep, trip: BreakerTrip?) {
        if context.stopRequested { return (.finish(.stopped), context.tripped) }
        if let maxWallClock = context.limits.maxWallClock, context.elapsed >= maxWallClock {
            let trip = BreakerTrip(
                reason: .maxWallClock,
                detail: "ran \(context.elapsed.shortDescription) of \(maxWallClock.shortDescription) allowed"
            )
            return (.finish(.maxWallClock), trip)
        }
        if progress.allDone {
            return (context.inFlight == 0 ? .finalVerify : .wait, context.tripped)
        }
        if let tripped = context.tripped {
            return (context.inFlight > 0 ? .wait : .finish(tripped.reason), tripped)
        }
        // With footprints, look further into the frontier for groups that overlap nothing running.
        let ready = progress.frontier(limit: context.footprints == nil ? context.idleSlots : context.idleSlots + 64)
        let frontier =
            context.footprints?.choose(ready, running: context.runningGroups, slots: context.idleSlots) ?? ready
        if frontier.isEmpty || context.idleSlots <= 0 {
            return (context.inFlight > 0 ? .wait : .finish(.blocked), nil)
        }
        var chosen: [String] = []
        var trip: BreakerTrip?
        for group in frontier {
            if let breaker = breaker(context, dispatchingAlready: chosen.count) {
                trip = breaker
                break
            }
            chosen.append(group)
        }
        if chosen.isEmpty {
            return (context.inFlight > 0 ? .wait : .finish(trip?.reason ?? .blocked), trip)
        }
        return (.dispatch(chosen), trip)
    }

    /// The breaker that forbids one more attempt, if any.
    package static func breaker(_ context: DispatchContext, dispatchingAlready extra: Int = 0) -> BreakerTrip? {
        if let pause = context.pauseAfterAttempts, context.attemptsStarted + extra + 1 > pause {
            return BreakerTrip(
                reason: .stepLimit,
                detail: "the step's attempts have run (\(context.attemptsStarted + extra) in all); resume or step again"
            )
        }
        if let maxAttempts = context.limits.maxAttempts, context.attemptsStarted + extra + 1 > maxAttempts {
            return BreakerTrip(
                reason: .maxAttempts,
                detail: "\(context.attemptsStarted + extra) of \(maxAttempts) attempts used"
            )
        }
        if let maxCost = context.limits.maxCostUSD {
            let projected = context.spentUSD + Double(context.runningAttempts + extra + 1) * context.estimatedAttemptUSD
            if context.spentUSD >= maxCost || projected > maxCost {
                return BreakerTrip(
                    reason: .maxCost,
                    detail:
                        "spent \(formatUSD(context.spentUSD)), projected \(formatUSD(projected)) with one more attempt "
                        + "(≈\(formatUSD(context.estimatedAttemptUSD)) each), limit \(formatUSD(maxCost))"
                )
            }
        }
        if let daily = context.dailyCost {
            let spent = daily.othersUSD + context.spentUSD
            let projected = spent + Double(context.runningAttempts + extra + 1) * context.estimatedAttemptUSD
            if spent >= daily.limitUSD || projected > daily.limitUSD {
                return BreakerTrip(
                    reason: .maxCost,
                    detail:
                        "the daily limit: missions spent \(formatUSD(spent)) in the last 24 hours (this one "
                        + "\(formatUSD(context.spentUSD))), projected \(formatUSD(projected)) with one more attempt, "
                        + "daily_cost_usd \(formatUSD(daily.limitUSD)); resume once the day's spending allows"
                )
            }
        }
        return nil
    }
}

/// `[limits] daily_cost_usd`: what the missions of one ledger may spend in 24 hours together.
package struct DailyCostLimit: Sendable, Equatable {
    package var limitUSD: Double
    /// What the ledger's other missions spent in the last 24 hours (this one's spending counts whole).
    package var othersUSD: Double

    package init(limitUSD: Double, othersUSD: Double) {
        self.limitUSD = limitUSD
        self.othersUSD = othersUSD
    }

    /// How far back spending counts.
    package static let window: Double = 86_400

    /// What is left of the day's allowance for this mission, having spent `spentUSD`.
    package func remaining(after spentUSD: Double) -> Double { max(0, limitUSD - othersUSD - spentUSD) }
}

/// A moving estimate of the next attempt's cost: an exponential average that leans on recent attempts.
package struct CostEstimator: Sendable, Equatable {
    package private(set) var estimateUSD: Double
    package private(set) var samples: Int
    private let weight: Double

    package init(initialEstimateUSD: Double = 0, weight: Double = 0.5) {
        self.estimateUSD = initialEstimateUSD
        self.samples = 0
        self.weight = weight
    }

    package mutating func record(costUSD: Double) {
        estimateUSD = samples == 0 ? costUSD : weight * costUSD + (1 - weight) * estimateUSD
        samples += 1
    }
}

/// Formats dollars for people: `$0.0042`, `$1.25`.
///
/// Never traps: amounts too large for cents are written as Swift writes the number, and what is not a number as `$?`.
package func formatUSD(_ amount: Double) -> String {
    if amount == 0 { return "$0.00" }
    guard amount.isFinite else { return "$?" }
    if abs(amount) >= 1e12 { return (amount < 0 ? "-$" : "$") + "\(abs(amount))" }
    if abs(amount) >= 0.01 {
        return "$" + decimal(amount, places: 2)
    }
    return "$" + decimal(amount, places: 4)
}

private func decimal(_ value: Double, places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = Int64((abs(value) * scale).rounded())
    let whole = scaled / Int64(scale)
    var fraction = String(scaled % Int64(scale))
    while fraction.count < places { fraction = "0" + fraction }
    return (value < 0 ? "-" : "") + "\(whole).\(fraction)"
}
