import FlotillaCore
import Foundation

/// A capability of the loop — scheduling, spending, landing, approvals… — as a state machine.
///
/// It owns its fields, is told every event, and answers with actions that the loop performs; it does no I/O of its
/// own. A new capability is a new file and a line in ``Capabilities``; the loop itself stays as it is.
protocol LoopCapability {
    /// Work under way that the mission must wait for before it may end.
    var inFlight: Int { get }
    /// Groups its work holds: groups expected to touch the same files wait while others can run (footprints).
    var heldGroups: [String] { get }
    /// Whether no attempt may start now (a rate-limit wait).
    var holdsDispatch: Bool { get }
    /// Once, when the run starts, before anything is dispatched.
    mutating func begin(_ view: LoopView) -> [LoopAction]
    /// Shapes the attempts about to start on a group: how many candidates, from which commit, told what.
    func shape(_ plan: inout DispatchPlan, _ view: LoopView)
    /// Every turn of the loop, before it waits for the next event.
    mutating func tick(_ view: LoopView) -> [LoopAction]
    /// Holds back an attempt's result (a best-of-N round waits for all its candidates); nil leaves it to the others.
    mutating func take(_ plan: AttemptPlan, _ result: AttemptResult, _ view: LoopView) -> [LoopAction]?
    /// Acts on an event.
    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction]
    /// The mission stops: what it still holds ends, each in the ledger.
    mutating func stop(_ reason: StopReason, _ view: LoopView) -> [LoopAction]
}

extension LoopCapability {
    var inFlight: Int { 0 }
    var heldGroups: [String] { [] }
    var holdsDispatch: Bool { false }
    mutating func begin(_ view: LoopView) -> [LoopAction] { [] }
    func shape(_ plan: inout DispatchPlan, _ view: LoopView) {}
    mutating func tick(_ view: LoopView) -> [LoopAction] { [] }
    mutating func take(_ plan: AttemptPlan, _ result: AttemptResult, _ view: LoopView) -> [LoopAction]? { nil }
    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] { [] }
    mutating func stop(_ reason: StopReason, _ view: LoopView) -> [LoopAction] { [] }
}

/// What capabilities may read of each other, taken by the loop before it tells them anything.
struct LoopView: Sendable {
    var spec: MissionSpec
    var now: Date
    /// Where Flotilla's last landing left the target branch.
    var targetHead: String
    var freeSlots: Int
    var runningAttempts: [AttemptKey]
    var attemptsStarted: Int
    var spentUSD: Double
    /// The moving estimate of one more attempt's cost.
    var estimatedAttemptUSD: Double
    /// `[limits] daily_cost_usd`, with what the ledger's other missions spent in the last 24 hours.
    var dailyCost: DailyCostLimit?
    var stopRequested: Bool
    /// Flotilla itself cannot go on.
    var failed: Bool
    /// Set while the loop winds down: what children answer now arrives after the mission ended.
    var stopping: StopReason?
}

/// Attempts about to start on a group, as the capabilities shape them.
struct DispatchPlan: Sendable {
    let group: String
    /// The number of the first of them.
    let firstNumber: Int
    /// How many candidates run at once (best of N).
    var width = 1
    var startCommit: String
    /// Whether they start from a failed merge, to fix it.
    var isFixup = false

    var keys: [AttemptKey] { (0..<width).map { AttemptKey(group: group, number: firstNumber + $0) } }
}

/// Visits each capability in turn (``Capabilities/visit(_:)``).
protocol CapabilityVisitor {
    mutating func visit<C: LoopCapability>(_ capability: inout C)
}

/// The capabilities of the loop: the list a new one joins.
///
/// They hear events in this order, and end in it.
struct Capabilities {
    var scheduling: Scheduling
    var spending: Spending
    var landing: LandingLine
    var approvals: ApprovalDesk
    var speculation: SpeculationRounds
    var fixups: FixupPlanner
    var rateLimits: RateLimitGate
    var publisher: Publisher
    var refWatch: RefWatch
    var ending: Ending

    mutating func visit<V: CapabilityVisitor>(_ visitor: inout V) {
        visitor.visit(&scheduling)
        visitor.visit(&spending)
        visitor.visit(&landing)
        visitor.visit(&approvals)
        visitor.visit(&speculation)
        visitor.visit(&fixups)
        visitor.visit(&rateLimits)
        visitor.visit(&publisher)
        visitor.visit(&refWatch)
        visitor.visit(&ending)
    }
}

extension Capabilities {
    /// Makes the same call on every capability and collects their actions, in order.
    private struct Broadcast: CapabilityVisitor {
        enum Call {
            case begin
            case tick
            case on(LoopEvent)
            case stop(StopReason)
        }

        let call: Call
        let view: LoopView
        var actions: [LoopAction] = []

        mutating func visit<C: LoopCapability>(_ capability: inout C) {
            switch call {
            case .begin: actions += capability.begin(view)
            case .tick: actions += capability.tick(view)
            case .on(let event): actions += capability.on(event, view)
            case .stop(let reason): actions += capability.stop(reason, view)
            }
        }
    }

    private struct Sum: CapabilityVisitor {
        var inFlight = 0
        var held: [String] = []
        var holds = false

        mutating func visit<C: LoopCapability>(_ capability: inout C) {
            inFlight += capability.inFlight
            held += capability.heldGroups
            holds = holds || capability.holdsDispatch
        }
    }

    private struct Shape: CapabilityVisitor {
        var plan: DispatchPlan
        let view: LoopView

        mutating func visit<C: LoopCapability>(_ capability: inout C) { capability.shape(&plan, view) }
    }

    private struct Take: CapabilityVisitor {
        let plan: AttemptPlan
        let result: AttemptResult
        let view: LoopView
        var taken: [LoopAction]?

        mutating func visit<C: LoopCapability>(_ capability: inout C) {
            guard taken == nil else { return }
            taken = capability.take(plan, result, view)
        }
    }

    private mutating func broadcast(_ call: Broadcast.Call, _ view: LoopView) -> [LoopAction] {
        var visitor = Broadcast(call: call, view: view)
        visit(&visitor)
        return visitor.actions
    }

    /// What the capabilities together have in flight and hold, and whether one holds dispatching.
    mutating func totals() -> (inFlight: Int, held: [String], holdsDispatch: Bool) {
        var sum = Sum()
        visit(&sum)
        return (sum.inFlight, sum.held, sum.holds)
    }

    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] { broadcast(.on(event), view) }

    mutating func begin(_ view: LoopView) -> [LoopAction] { broadcast(.begin, view) }

    mutating func tick(_ view: LoopView) -> [LoopAction] { broadcast(.tick, view) }

    mutating func stop(_ reason: StopReason, _ view: LoopView) -> [LoopAction] { broadcast(.stop(reason), view) }

    mutating func shape(_ plan: DispatchPlan, _ view: LoopView) -> DispatchPlan {
        var shape = Shape(plan: plan, view: view)
        visit(&shape)
        return shape.plan
    }

    /// The actions of the first capability that holds the result back; nil when none does.
    mutating func take(_ plan: AttemptPlan, _ result: AttemptResult, _ view: LoopView) -> [LoopAction]? {
        var take = Take(plan: plan, result: result, view: view)
        visit(&take)
        return take.taken
    }
}
