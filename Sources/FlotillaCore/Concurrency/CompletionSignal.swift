import Dispatch
import Synchronization

/// A one-shot signal that any number of tasks can wait for; waiting ends early if the waiting task is cancelled.
package final class CompletionSignal: Sendable {
    private struct State {
        var signalled = false
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var timedWaiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    package var isSignalled: Bool { state.withLock { $0.signalled } }

    package func signal() {
        let (waiters, timedWaiters) = state.withLock { state in
            guard !state.signalled else {
                return ([CheckedContinuation<Void, Never>](), [CheckedContinuation<Bool, Never>]())
            }
            state.signalled = true
            defer {
                state.waiters.removeAll()
                state.timedWaiters.removeAll()
            }
            return (Array(state.waiters.values), Array(state.timedWaiters.values))
        }
        for waiter in waiters { waiter.resume() }
        for waiter in timedWaiters { waiter.resume(returning: true) }
    }

    /// Waits at most `timeout` and ignores cancellation, for clean-up that must see things through.
    ///
    /// Returns whether the signal fired.
    package func wait(timeout: Duration) async -> Bool {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.signalled { return true }
                state.timedWaiters[id] = continuation
                return false
            }
            if resumeNow {
                continuation.resume(returning: true)
                return
            }
            let nanoseconds = max(
                0,
                Int(timeout.components.seconds) * 1_000_000_000 + Int(timeout.components.attoseconds / 1_000_000_000)
            )
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { [self] in
                let waiter = state.withLock { $0.timedWaiters.removeValue(forKey: id) }
                waiter?.resume(returning: false)
            }
        }
    }

    /// Returns when the signal fires or the current task is cancelled.
    package func wait() async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    // A task cancelled before this point has already run `onCancel`, which found no waiter.
                    if state.signalled || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
