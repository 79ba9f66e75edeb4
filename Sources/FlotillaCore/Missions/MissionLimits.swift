/// The breakers and per-attempt limits of a mission.
///
/// `nil` means uncapped (`-1` on the command line).
package struct MissionLimits: Sendable, Codable, Equatable {
    package var maxCostUSD: Double?
    package var maxWallClock: Duration?
    package var maxAttempts: Int?
    package var attemptTimeout: Duration
    /// Consecutive failed attempts without progress before a group escalates.
    package var stallThreshold: Int

    package init(
        maxCostUSD: Double? = nil,
        maxWallClock: Duration? = nil,
        maxAttempts: Int? = nil,
        attemptTimeout: Duration = .seconds(1800),
        stallThreshold: Int = 3
    ) {
        self.maxCostUSD = maxCostUSD
        self.maxWallClock = maxWallClock
        self.maxAttempts = maxAttempts
        self.attemptTimeout = attemptTimeout
        self.stallThreshold = stallThreshold
    }
}

extension Duration {
    /// A duration from seconds that may come from outside (a tool's output, a header, a file, a flag): a value
    /// that is not finite, or below zero, is zero, and one beyond a century is a century, so converting never traps.
    package static func seconds(bounded value: Double) -> Duration {
        guard value.isFinite, value > 0 else { return .zero }
        return .milliseconds(Int64(min(value, 3.2e9) * 1000))
    }

    /// The duration in seconds as a floating-point number.
    package var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }

    /// The duration in whole milliseconds.
    package var milliseconds: Int64 {
        let (whole, fraction) = components
        return whole * 1000 + fraction / 1_000_000_000_000_000
    }

    /// A short human form: `850ms`, `4.2s`, `3m 05s`, `1h 02m`.
    package var shortDescription: String {
        let total = seconds
        if total < 1 { return "\(milliseconds)ms" }
        if total < 60 {
            let tenths = (total * 10).rounded() / 10
            return "\(tenths)s"
        }
        let whole = Int(total.rounded())
        if whole < 3600 {
            return "\(whole / 60)m \(pad(whole % 60))s"
        }
        return "\(whole / 3600)h \(pad((whole % 3600) / 60))m"
    }

    private func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
