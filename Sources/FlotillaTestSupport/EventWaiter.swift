import FlotillaCore
import Foundation
import Synchronization

/// A mission event sink a test waits on: ``first(_:timeout:)`` returns once an event that matches has been published
/// (or had been already).
package final class EventWaiter: MissionEventSink {
    private struct Waiter {
        var matches: @Sendable (MissionEvent) -> Bool
        var continuation: CheckedContinuation<MissionEvent?, Never>
    }

    private struct State {
        var events: [MissionEvent] = []
        var waiters: [Int: Waiter] = [:]
        var next = 0
    }

    private let state = Mutex(State())

    package init() {}

    package func publish(_ event: MissionEvent) {
        let ready = state.withLock { state -> [CheckedContinuation<MissionEvent?, Never>] in
            state.events.append(event)
            let due = state.waiters.filter { $0.value.matches(event) }
            for id in due.keys { state.waiters[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume(returning: event) }
    }

    /// Every event so far.
    package var events: [MissionEvent] { state.withLock { $0.events } }

    /// The first event that matches, waiting for it; nil if none came within `timeout` (a backstop, not a wait).
    package func first(
        timeout: Duration = .seconds(300),
        _ matches: @escaping @Sendable (MissionEvent) -> Bool
    ) async -> MissionEvent? {
        let id = state.withLock { state -> Int in
            state.next += 1
            return state.next
        }
        return await withTaskGroup(of: MissionEvent?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let found = self.state.withLock { state -> MissionEvent? in
                        if let seen = state.events.first(where: matches) { return seen }
                        state.waiters[id] = Waiter(matches: matches, continuation: continuation)
                        return nil
                    }
                    if let found { continuation.resume(returning: found) }
                }
            }
            group.addTask {
                // The backstop: a test that waits longer than this has already failed.
                try? await ContinuousClock().sleep(for: timeout)
                let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.continuation.resume(returning: nil)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
