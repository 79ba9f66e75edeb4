import Foundation

/// What is sent for a notification: an HTTP POST, or a desktop notification's arguments.
package enum NotificationMessage: Sendable, Equatable {
    case post(url: String, headers: [(name: String, value: String)], body: Data)
    /// The arguments of `notify-send`.
    case desktop(arguments: [String])

    /// The header names of a signed webhook delivery.
    package enum Header {
        package static let signature = "X-Flotilla-Signature"
        package static let timestamp = "X-Flotilla-Timestamp"
        package static let delivery = "X-Flotilla-Delivery"
        package static let event = "X-Flotilla-Event"
    }

    /// The text a webhook's signature covers: `TIMESTAMP.BODY`, so that a captured delivery cannot be replayed later
    /// with a fresh timestamp.
    package static func signedContent(timestamp: Int, body: Data) -> Data {
        Data("\(timestamp).".utf8) + body
    }

    /// The message for `notification` at `timestamp` (seconds since 1970); `secret` is the value of the target's
    /// `secret_env`, `sign` gives the hex HMAC-SHA256 of data under a key.
    package static func render(
        _ notification: PendingNotification,
        timestamp: Int,
        secret: String?,
        sign: (_ key: String, _ data: Data) -> String
    ) -> NotificationMessage {
        let payload = notification.payload
        let target = notification.target
        let url = target.url ?? ""
        switch target.kind {
        case .webhook:
            let body = encode(payload)
            var headers: [(name: String, value: String)] = [
                ("Content-Type", "application/json"), (Header.event, payload.event),
                (Header.delivery, String(notification.id)), (Header.timestamp, String(timestamp)),
            ]
            if let secret {
                headers.append(
                    (Header.signature, "sha256=" + sign(secret, signedContent(timestamp: timestamp, body: body)))
                )
            }
            return .post(url: url, headers: headers, body: body)
        case .slack:
            let text = "*\(payload.title)*\n\(payload.text)\nGoal: \(payload.goal)"
            return .post(
                url: url,
                headers: [("Content-Type", "application/json")],
                body: encode(["text": text])
            )
        case .ntfy:
            var headers: [(name: String, value: String)] = [
                ("Content-Type", "text/plain; charset=utf-8"), ("Title", asciiHeader(payload.title)),
                ("Priority", payload.category == .completed ? "default" : "high"),
                ("Tags", payload.category == .completed ? "white_check_mark" : "warning"),
            ]
            if let secret { headers.append(("Authorization", "Bearer \(secret)")) }
            return .post(url: url, headers: headers, body: Data(payload.text.utf8))
        case .desktop:
            return .desktop(arguments: [
                "--app-name=Flotilla",
                "--urgency=\(payload.category == .completed ? "normal" : "critical")",
                payload.title, payload.text,
            ])
        }
    }

    private static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// A header value with only printable ASCII: the title carries a mission id and words, never control characters.
    private static func asciiHeader(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
    }

    package static func == (lhs: NotificationMessage, rhs: NotificationMessage) -> Bool {
        switch (lhs, rhs) {
        case (.post(let u1, let h1, let b1), .post(let u2, let h2, let b2)):
            u1 == u2 && b1 == b2 && h1.map { [$0.name, $0.value] } == h2.map { [$0.name, $0.value] }
        case (.desktop(let a1), .desktop(let a2)): a1 == a2
        default: false
        }
    }
}
