import Synchronization

/// Many readers or one writer at a time, for async work, first come first served (a waiting writer is not
/// overtaken by later readers).
package final class AsyncReadWriteLock: Sendable {
    private enum Access {
        case read
        case write
    }

    private struct State {
        var readers = 0
        var writing = false
        var queue: [(access: Access, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    package init() {}

    @discardableResult
    package func withReadLock<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        await acquire(.read)
        defer { release(.read) }
        return try await body()
    }

    @discardableResult
    package func withWriteLock<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        await acquire(.write)
        defer { release(.write) }
        return try await body()
    }

    private func acquire(_ access: Access) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                let free =
                    access == .read ? !state.writing && state.queue.isEmpty : !state.writing && state.readers == 0
                guard free else {
                    state.queue.append((access, continuation))
                    return false
                }
                if access == .read { state.readers += 1 } else { state.writing = true }
                return true
            }
            if granted { continuation.resume() }
        }
    }

    private func release(_ access: Access) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if access == .read { state.readers -= 1 } else { state.writing = false }
            var woken: [CheckedContinuation<Void, Never>] = []
            // Admit waiters in order: a run of readers together, or one writer once everyone has left.
            while let next = state.queue.first {
                if next.access == .write {
                    guard !state.writing, state.readers == 0, woken.isEmpty else { break }
                    state.writing = true
                    woken.append(state.queue.removeFirst().continuation)
                    break
                }
                guard !state.writing else { break }
                state.readers += 1
                woken.append(state.queue.removeFirst().continuation)
            }
            return woken
        }
        for continuation in woken { continuation.resume() }
    }
}
