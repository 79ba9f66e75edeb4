import Foundation

/// How long to hold every dispatch after an agent hit a rate limit or quota.
///
/// A limit is the account's, not the group's: the attempt does not count towards the group's stall, and no
/// agent starts until the wait is over. The wait is what the agent said (`retry in 27s`, `Retry-After: 30`,
/// `resets at 2026-11-22T12:00:00Z`) when it said it, else exponential from `base`; never more than `cap`.
package struct RateLimitBackoff: Sendable, Equatable {
    package var base: Duration
    package var cap: Duration

    package init(base: Duration = .seconds(30), cap: Duration = .seconds(900)) {
        self.base = base
        self.cap = cap
    }

    /// The wait after the `consecutive`-th limit in a row (1 for the first), given the agent's message.
    package func delay(after message: String, consecutive: Int, now: Date) -> Duration {
        if let stated = Self.statedWait(in: message, now: now) { return min(max(stated, .zero), cap) }
        let exponent = min(max(consecutive - 1, 0), 20)
        return min(base * (1 << exponent), cap)
    }

    /// A wait the message states, if any.
    static func statedWait(in message: String, now: Date) -> Duration? {
        let lowered = message.lowercased()
        for marker in ["retry in ", "retry after ", "retry-after: ", "try again in "] {
            guard let range = lowered.range(of: marker) else { continue }
            let rest = lowered[range.upperBound...]
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(digits) else { continue }
            let unit = rest.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
            let seconds =
                unit.hasPrefix("m") && !unit.hasPrefix("ms") ? value * 60 : unit.hasPrefix("ms") ? value / 1000 : value
            return .seconds(bounded: seconds)
        }
        // An ISO 8601 instant after "reset": "Resets at 2026-11-22T12:00:00Z".
        if let range = lowered.range(of: "reset") {
            let words = message[range.upperBound...].split(whereSeparator: { $0 == " " || $0 == "," })
            let formatter = ISO8601DateFormatter()
            for word in words.prefix(4) {
                let candidate = word.trimmingCharacters(in: CharacterSet(charactersIn: ".;()"))
                if let date = formatter.date(from: candidate) {
                    return .seconds(bounded: date.timeIntervalSince(now))
                }
            }
        }
        return nil
    }
}
