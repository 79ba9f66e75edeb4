import FlotillaCore
import Foundation

/// Work the loop runs in a child task for a capability: an attempt, a landing, a push, a look at git or the ledger.
///
/// It may read anything but writes no ledger: what it finds comes back as events, its answer last, and the
/// capability that asked for it decides what is recorded.
protocol ChildWork: Sendable {
    /// Whether the loop lets it finish when the mission stops, instead of cancelling it (a push cut off half-way would
    /// leave the record of its lease wrong).
    var finishesOnStop: Bool { get }
    /// Does the work; `tell` passes on what happens meanwhile; the answer is the last event of it.
    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent
}

extension ChildWork {
    var finishesOnStop: Bool { false }
}

/// What the loop's children reach: the mission's ports (the ledger to read), and the executor of attempts.
struct LoopEnvironment: Sendable {
    let context: EngineContext
    let executor: any AttemptExecutor
    let clock: any Clock<Duration>
}

/// Tells `event` after `delay`; early, when the loop stops (the loop then ignores it).
struct LoopTimer: ChildWork {
    let delay: Duration
    let event: LoopEvent

    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        if delay > .zero { try? await environment.clock.sleep(for: delay) }
        return event
    }
}

/// Waits for a stop (Ctrl-C, `flotilla stop`).
struct StopWatch: ChildWork {
    let signal: CompletionSignal

    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        await signal.wait()
        return .stopRequested
    }
}

/// One attempt, on the mission's executor; its updates as they happen, its result last.
struct AttemptWork: ChildWork {
    let plan: AttemptPlan

    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        let plan = self.plan
        let result = await AttemptContext.$current.withValue([plan.key]) {
            await environment.executor.run(plan) { tell(.attemptUpdate(plan.key, $0)) }
        }
        return .attemptEnded(plan, result)
    }
}
