import Foundation

/// What a person is told about: the moments a mission needs someone, or has news.
package enum NotificationCategory: String, Sendable, Codable, CaseIterable {
    /// A group is blocked (its attempts kept failing), or work waits for an approval.
    case needsHuman = "needs_human"
    /// A breaker (cost, time, attempts, stall) tripped.
    case breaker
    /// The mission finished with every group landed and verified.
    case completed
    /// The mission finished without completing (stopped, failed, a breaker), or was left crashed.
    case failed

    /// The category `event` belongs to, if people are told about it at all.
    package init?(_ event: MissionEvent) {
        switch event.kind {
        case .attemptFailed where event.payload(MissionEvent.AttemptFailed.self)?.groupStatus == .blocked:
            self = .needsHuman
        case .approvalRequested: self = .needsHuman
        case .breakerTripped: self = .breaker
        case .pushRefused: self = .needsHuman
        case .missionFinished:
            self = event.payload(MissionEvent.MissionFinished.self)?.reason == .completed ? .completed : .failed
        case .missionCrashed where event.payload(MissionEvent.MissionCrashed.self)?.restart == nil: self = .failed
        default: return nil
        }
    }
}

/// Where notifications go: one `[notify.NAME]` table of a configuration file.
package struct NotificationTarget: Sendable, Equatable, Codable {
    /// How a target is reached.
    package enum Kind: String, Sendable, Codable, CaseIterable {
        /// A JSON POST, signed with HMAC-SHA256 over the timestamp and body.
        case webhook
        /// A Slack-compatible incoming webhook (`{"text": …}`).
        case slack
        /// An ntfy topic URL: the text as the body, title, priority and tags as headers.
        case ntfy
        /// `notify-send` on this machine's desktop.
        case desktop
    }

    /// The table's name (`ops` for `[notify.ops]`), shown in history.
    package var name: String
    package var kind: Kind
    /// Where to POST (not for `desktop`).
    package var url: String?
    /// The environment variable holding the webhook's signing secret, or ntfy's access token.
    package var secretVariable: String?
    package var events: Set<NotificationCategory>
    /// How long one delivery may take before it counts as failed.
    package var timeout: Duration
    /// Deliveries tried before giving up.
    package var attempts: Int
    /// The wait after the first failure, doubling after each (capped at ``maxDelay``).
    package var backoff: Duration

    package static let maxDelay: Duration = .seconds(300)

    package init(
        name: String,
        kind: Kind,
        url: String? = nil,
        secretVariable: String? = nil,
        events: Set<NotificationCategory> = Set(NotificationCategory.allCases),
        timeout: Duration = .seconds(10),
        attempts: Int = 8,
        backoff: Duration = .seconds(2)
    ) {
        self.name = name
        self.kind = kind
        self.url = url
        self.secretVariable = secretVariable
        self.events = events
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
    }

    /// The wait before the next try after `failures` failed ones (1 for the first failure).
    package func delay(after failures: Int) -> Duration {
        let factor = Double(1 << min(max(failures - 1, 0), 20))
        return min(.seconds(bounded: backoff.seconds * factor), Self.maxDelay)
    }
}

extension NotificationTarget {
    /// The variable holding the secret a mission's `callback_url` deliveries are signed with.
    package static let callbackSecretVariable = "FLOTILLA_CALLBACK_SECRET"

    /// A mission's `callback_url`: its result, signed like a webhook notification.
    package static func callback(_ url: String) -> NotificationTarget {
        NotificationTarget(
            name: "callback_url",
            kind: .webhook,
            url: url,
            secretVariable: callbackSecretVariable,
            events: [.completed, .failed]
        )
    }

    /// The keys a `[notify.NAME]` table accepts.
    package static let keys: [String] = ["kind", "url", "secret_env", "events", "timeout", "attempts", "backoff"]

    /// Reads a `[notify.NAME]` table; every problem names its key and line.
    package static func parse(
        name: String,
        entries: [String: TOMLDocument.Entry],
        file: String,
        line: Int?
    ) throws(ConfigurationError) -> NotificationTarget {
        let table = "notify.\(name)"
        func fail(_ entry: TOMLDocument.Entry?, _ message: String) -> ConfigurationError {
            ConfigurationError(file: file, line: entry?.line ?? line, message)
        }
        if let unknown = entries.keys.sorted().first(where: { !keys.contains($0) }) {
            throw fail(entries[unknown], "unknown key \(table).\(unknown) (known: \(keys.joined(separator: ", ")))")
        }
        let kinds = Kind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let kindEntry = entries["kind"] else { throw fail(nil, "[\(table)] needs kind (\(kinds))") }
        guard let kind = kindEntry.value.stringValue.flatMap(Kind.init(rawValue:)) else {
            throw fail(kindEntry, "\(table).kind must be one of \(kinds)")
        }
        var target = NotificationTarget(name: name, kind: kind)
        if let entry = entries["url"] {
            guard let text = entry.value.stringValue, let url = URL(string: text),
                ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host?.isEmpty == false
            else { throw fail(entry, "\(table).url must be an http:// or https:// URL") }
            target.url = text
        }
        switch (kind, target.url) {
        case (.desktop, .some): throw fail(entries["url"], "\(table).url is not used by kind desktop; remove it")
        case (.webhook, nil), (.slack, nil), (.ntfy, nil): throw fail(nil, "[\(table)] needs url (kind \(kind))")
        default: break
        }
        if let entry = entries["secret_env"] {
            guard let variable = entry.value.stringValue, let first = variable.first, first == "_" || first.isLetter,
                variable.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) })
            else {
                throw fail(entry, "\(table).secret_env must name an environment variable (SOME_NAME)")
            }
            guard kind == .webhook || kind == .ntfy else {
                throw fail(entry, "\(table).secret_env is for kind webhook (signing) or ntfy (access token)")
            }
            target.secretVariable = variable
        } else if kind == .webhook {
            throw fail(
                nil,
                "[\(table)] needs secret_env: the variable holding the secret its deliveries are signed with"
            )
        }
        if let entry = entries["events"] {
            let names = NotificationCategory.allCases.map(\.rawValue).joined(separator: ", ")
            guard case .array(let items) = entry.value, !items.isEmpty else {
                throw fail(entry, "\(table).events must be a non-empty list of \(names)")
            }
            var events: Set<NotificationCategory> = []
            for item in items {
                guard let category = item.stringValue.flatMap(NotificationCategory.init(rawValue:)) else {
                    let shown = item.stringValue.map { "\"\($0)\"" } ?? item.description
                    throw fail(entry, "\(table).events: \(shown) is not one of \(names)")
                }
                events.insert(category)
            }
            target.events = events
        }
        func seconds(_ key: String, within range: ClosedRange<Double>) throws(ConfigurationError) -> Duration? {
            guard let entry = entries[key] else { return nil }
            guard let value = entry.value.numberValue, range.contains(value) else {
                throw fail(
                    entry,
                    "\(table).\(key) must be a number of seconds from \(range.lowerBound) to \(range.upperBound)"
                )
            }
            return .seconds(bounded: value)
        }
        target.timeout = try seconds("timeout", within: 0.1...300) ?? target.timeout
        target.backoff = try seconds("backoff", within: 0.01...300) ?? target.backoff
        if let entry = entries["attempts"] {
            guard let value = entry.value.intValue, (1...50).contains(value) else {
                throw fail(entry, "\(table).attempts must be a whole number from 1 to 50")
            }
            target.attempts = value
        }
        return target
    }
}
