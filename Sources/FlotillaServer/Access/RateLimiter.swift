/// How many requests a token may make: a sustained rate and a burst on top of it.
package struct RateLimit: Sendable, Equatable {
    package var perMinute: Double
    package var burst: Int

    package init(perMinute: Double, burst: Int) {
        self.perMinute = perMinute
        self.burst = burst
    }
}

/// Token buckets, one per access token: each request takes one; buckets refill at the token's rate.
package actor RateLimiter {
    private struct Bucket {
        var available: Double
        var updated: ContinuousClock.Instant
    }

    private var buckets: [String: Bucket] = [:]
    private let clock = ContinuousClock()

    package init() {}

    /// Takes one request from `name`'s bucket: nil if allowed, else how long until one is available.
    package func take(_ name: String, limit: RateLimit) -> Duration? {
        let now = clock.now
        var bucket = buckets[name] ?? Bucket(available: Double(limit.burst), updated: now)
        let perSecond = limit.perMinute / 60
        let elapsed = bucket.updated.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        bucket.available = min(Double(limit.burst), bucket.available + seconds * perSecond)
        bucket.updated = now
        defer { buckets[name] = bucket }
        if bucket.available >= 1 {
            bucket.available -= 1
            return nil
        }
        return .milliseconds(Int64(((1 - bucket.available) / perSecond * 1000).rounded(.up)))
    }
}
