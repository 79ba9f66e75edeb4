import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Rate-limit backoff", .tags(.small))
struct RateLimitBackoffTests {
    let backoff = RateLimitBackoff(base: .seconds(30), cap: .seconds(900))
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func aStatedWaitIsHonouredWithinTheCap() {
        #expect(backoff.delay(after: "Quota exceeded. Please retry in 27s.", consecutive: 1, now: now) == .seconds(27))
        #expect(backoff.delay(after: "429; Retry-After: 12", consecutive: 3, now: now) == .seconds(12))
        #expect(backoff.delay(after: "slow down, try again in 2 minutes", consecutive: 1, now: now) == .seconds(120))
        let reset = ISO8601DateFormatter().string(from: now.addingTimeInterval(300))
        #expect(
            backoff.delay(after: "You've hit your usage limit. Resets at \(reset)", consecutive: 1, now: now)
                == .seconds(300)
        )
        #expect(backoff.delay(after: "retry in 7200s", consecutive: 1, now: now) == .seconds(900))
    }

    @Test func withoutAStatedWaitItDoublesUpToTheCap() {
        let message = "You've hit your limit · resets 1pm (UTC)"
        #expect(backoff.delay(after: message, consecutive: 1, now: now) == .seconds(30))
        #expect(backoff.delay(after: message, consecutive: 2, now: now) == .seconds(60))
        #expect(backoff.delay(after: message, consecutive: 4, now: now) == .seconds(240))
        #expect(backoff.delay(after: message, consecutive: 9, now: now) == .seconds(900))
    }
}
