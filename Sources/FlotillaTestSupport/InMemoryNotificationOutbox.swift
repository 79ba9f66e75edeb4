import FlotillaCore
import Foundation
import Synchronization

/// A ``NotificationOutbox`` in memory, beside the ledger's: notifications a test puts in, claimed and tried as the
/// ledger's are (a claim lasts the target's timeout and 5 s), every try kept as the event the ledger would record.
package final class InMemoryNotificationOutbox: NotificationOutbox {
    package struct Entry: Sendable {
        package var mission: MissionID
        package var notification: PendingNotification
        package var state: NotificationRecord.State = .pending
        package var nextAt: Date
        package var claimedUntil: Date?
    }

    private struct State {
        var entries: [Int64: Entry] = [:]
        var events: [MissionEvent] = []
    }

    private let state = Mutex(State())

    package init() {}

    /// Puts a notification in, due at `at`.
    package func enqueue(_ notification: PendingNotification, of mission: MissionID, at: Date) {
        state.withLock { $0.entries[notification.id] = Entry(mission: mission, notification: notification, nextAt: at) }
    }

    /// Every notification, by id.
    package var entries: [Int64: Entry] { state.withLock { $0.entries } }

    /// Every try recorded, as events.
    package var events: [MissionEvent] { state.withLock { $0.events } }

    package func claimDueNotifications(
        of mission: MissionID?,
        now: Date
    ) async throws -> [(mission: MissionID, notification: PendingNotification)] {
        state.withLock { state in
            let due = state.entries.values.filter { entry in
                entry.state == .pending && entry.nextAt <= now && (entry.claimedUntil ?? .distantPast) <= now
                    && (mission == nil || entry.mission == mission)
            }
            .sorted { ($0.nextAt, $0.notification.id) < ($1.nextAt, $1.notification.id) }
            for entry in due {
                state.entries[entry.notification.id]?.claimedUntil = now.addingTimeInterval(
                    entry.notification.target.timeout.seconds + 5
                )
            }
            return due.map { ($0.mission, $0.notification) }
        }
    }

    package func pendingNotifications(of mission: MissionID) async throws -> (count: Int, nextAt: Date?) {
        state.withLock { state in
            let pending = state.entries.values.filter { $0.mission == mission && $0.state == .pending }
            return (pending.count, pending.map(\.nextAt).min())
        }
    }

    package func recordTry(_ attempt: NotificationTry, mission: MissionID, at: Date) async throws -> MissionEvent {
        try state.withLock { state in
            guard var entry = state.entries[attempt.notification], entry.state == .pending else {
                throw OutboxError("no pending notification \(attempt.notification)")
            }
            entry.state = attempt.error == nil ? .delivered : attempt.retryAt == nil ? .failed : .pending
            if attempt.error != nil { entry.notification.failures += 1 }
            if let retry = attempt.retryAt { entry.nextAt = retry }
            entry.claimedUntil = nil
            state.entries[attempt.notification] = entry
            var event = LedgerChange.notificationTried(attempt).event(mission: mission, at: at)
            event.id = Int64(state.events.count + 1)
            state.events.append(event)
            return event
        }
    }

    private struct OutboxError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
