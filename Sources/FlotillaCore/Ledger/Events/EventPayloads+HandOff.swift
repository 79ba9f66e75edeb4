import Foundation

/// The payloads of what goes out of a mission: pushes, landings on the user's branches, notifications.
extension MissionEvent {
    /// A push of the target branch (`branch.pushed`), or its refusal (`push.refused`).
    package struct Pushed: EventPayload {
        package static let kinds: [EventKind] = [.branchPushed, .pushRefused]
        package var remote: String
        package var branch: String
        package var commit: String
        /// The lease: what Flotilla pushed there last; null for the first push.
        package var expected: String?
        package var refusal: String?

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(remote, forKey: .remote)
            try container.encode(branch, forKey: .branch)
            try container.encode(commit, forKey: .commit)
            try container.encode(expected, forKey: .expected)
            try container.encodeIfPresent(refusal, forKey: .refusal)
        }
    }

    /// `flotilla land`: the result landed on a branch of the user's (`mission.landed`), or not (`land.refused`).
    package struct LandedOnto: EventPayload {
        package static let kinds: [EventKind] = [.landedOnto, .landRefused]
        package var branch: String
        package var from: String
        package var how: String
        /// Null when the refusal came before a commit was made.
        package var commit: String?
        package var refusal: String?

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(branch, forKey: .branch)
            try container.encode(from, forKey: .from)
            try container.encode(how, forKey: .how)
            try container.encode(commit, forKey: .commit)
            try container.encodeIfPresent(refusal, forKey: .refusal)
        }
    }

    /// A try at delivering a notification: delivered, or failed.
    package struct NotificationTried: EventPayload {
        package static let kinds: [EventKind] = [.notificationDelivered, .notificationFailed]
        package var notification: Int64
        package var target: String
        package var targetKind: NotificationTarget.Kind
        package var event: String
        /// 1 for the first try.
        package var number: Int
        package var attempts: Int
        package var error: String?
        /// Seconds since 1970 of the next try; nil when delivered or given up.
        package var retryAt: Double?

        enum CodingKeys: String, CodingKey {
            case notification, target, event, attempts, error
            case targetKind = "target_kind"
            case number = "try"
            case retryAt = "retry_at"
        }
    }
}
