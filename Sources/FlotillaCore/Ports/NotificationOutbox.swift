import Foundation

/// Where notifications wait to be delivered: written to it with their event, claimed by whichever process delivers
/// them, and every try recorded.
///
/// The ledger is the real one (a table beside the events); tests use an in-memory one.
package protocol NotificationOutbox: Sendable {
    /// Claims the notifications due at `now` (of `mission`, or of every mission): no other process takes one until
    /// its claim ends (its target's timeout and a margin) or its try is recorded.
    func claimDueNotifications(
        of mission: MissionID?,
        now: Date
    ) async throws -> [(mission: MissionID, notification: PendingNotification)]

    /// How many of `mission`'s notifications wait, and when the soonest is due.
    func pendingNotifications(of mission: MissionID) async throws -> (count: Int, nextAt: Date?)

    /// Records a try with its event (`notification.delivered` or `notification.failed`); delivered, or due again
    /// at its `retryAt`, or given up.
    ///
    /// Recorded even when the calling task is cancelled: a try that happened is on record, so a receiver that
    /// answered is not sent the same notification again.
    func recordTry(_ attempt: NotificationTry, mission: MissionID, at: Date) async throws -> MissionEvent
}

extension NotificationOutbox {
    /// Claims the notifications of every mission due at `now`.
    package func claimDueNotifications(
        now: Date
    ) async throws -> [(mission: MissionID, notification: PendingNotification)] {
        try await claimDueNotifications(of: nil, now: now)
    }
}
