import Foundation

/// What a notification says, fixed when its event is recorded: the same bytes on every try.
package struct NotificationPayload: Sendable, Equatable, Codable {
    package var mission: MissionID
    package var category: NotificationCategory
    /// The event's kind (`mission.finished`), id, group and attempt.
    package var event: String
    package var eventID: Int64
    package var group: String?
    package var attempt: Int?
    package var at: Date
    /// One line for a person: `m-… needs a human: g2 blocked`.
    package var title: String
    /// The event's own sentence.
    package var text: String
    package var goal: String
    package var repository: String
    /// The mission's `tags` and `metadata`, when it has them.
    package var tags: [String]?
    package var metadata: [String: String]?

    package init(event: MissionEvent, category: NotificationCategory, goal: String, repository: String) {
        mission = event.mission
        self.category = category
        self.event = event.kind.rawValue
        eventID = event.id
        group = event.group
        attempt = event.attempt
        at = event.at
        let headline =
            switch category {
            case .needsHuman: "needs a human"
            case .breaker: "breaker tripped"
            case .completed: "completed"
            case .failed: "did not complete"
            }
        title = "Flotilla \(event.mission) \(headline)"
        text = event.message
        self.goal = goal
        self.repository = repository
    }

    enum CodingKeys: String, CodingKey {
        case mission, category, event, group, attempt, at, title, text, goal, repository, tags, metadata
        case eventID = "event_id"
    }
}

/// A notification waiting in the ledger's outbox for its target.
package struct PendingNotification: Sendable, Equatable {
    package var id: Int64
    package var target: NotificationTarget
    package var payload: NotificationPayload
    /// Tries that failed so far.
    package var failures: Int

    package init(id: Int64, target: NotificationTarget, payload: NotificationPayload, failures: Int) {
        self.id = id
        self.target = target
        self.payload = payload
        self.failures = failures
    }
}

/// One try at delivering a notification, as the ledger records it (and `history` shows it).
package struct NotificationTry: Sendable, Equatable {
    package var notification: Int64
    package var target: String
    package var kind: NotificationTarget.Kind
    package var event: String
    /// 1 for the first try.
    package var number: Int
    package var attempts: Int
    /// Why it failed; nil when it was delivered.
    package var error: String?
    /// When the next try is due; nil when delivered or given up.
    package var retryAt: Date?

    package init(
        notification: Int64,
        target: String,
        kind: NotificationTarget.Kind,
        event: String,
        number: Int,
        attempts: Int,
        error: String? = nil,
        retryAt: Date? = nil
    ) {
        self.notification = notification
        self.target = target
        self.kind = kind
        self.event = event
        self.number = number
        self.attempts = attempts
        self.error = error
        self.retryAt = retryAt
    }

    /// The outcome of try `number` of `pending` at `now`: delivered, or failed with `error` and retried later
    /// unless that was the last try.
    package init(of pending: PendingNotification, error: String?, now: Date) {
        let number = pending.failures + 1
        self.init(
            notification: pending.id,
            target: pending.target.name,
            kind: pending.target.kind,
            event: pending.payload.event,
            number: number,
            attempts: pending.target.attempts,
            error: error,
            retryAt: error != nil && number < pending.target.attempts
                ? now.addingTimeInterval(pending.target.delay(after: number).seconds) : nil
        )
    }
}

/// A notification as the outbox holds it, for `history`.
package struct NotificationRecord: Sendable, Equatable {
    package enum State: String, Sendable, Codable {
        case pending, delivered, failed
    }

    package var id: Int64
    package var target: String
    package var kind: NotificationTarget.Kind
    package var category: NotificationCategory
    package var event: String
    package var state: State
    /// Tries made: the failures, plus the one that delivered it.
    package var tries: Int
    package var lastError: String?
    package var createdAt: Date
    /// When it was delivered or given up; nil while pending.
    package var finishedAt: Date?
    /// When the next try is due, while pending.
    package var nextAt: Date?

    package init(
        id: Int64,
        target: String,
        kind: NotificationTarget.Kind,
        category: NotificationCategory,
        event: String,
        state: State,
        tries: Int,
        lastError: String?,
        createdAt: Date,
        finishedAt: Date?,
        nextAt: Date?
    ) {
        self.id = id
        self.target = target
        self.kind = kind
        self.category = category
        self.event = event
        self.state = state
        self.tries = tries
        self.lastError = lastError
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.nextAt = nextAt
    }
}
