import FlotillaCore
import FlotillaService
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Synchronization
import Testing

/// The courier on an in-memory outbox, a real receiver on loopback and a manual clock: retries and the grace after
/// a run, without waiting on real time.
@Suite("Notification delivery on an in-memory outbox", .tags(.medium), .timeLimit(.minutes(5)))
struct NotificationCourierTests {
    static let mission = MissionID("m-0000cafe") ?? MissionID.random()

    /// A webhook notification of a completed mission, to the receiver on `port`.
    static func notification(_ id: Int64, port: Int) -> PendingNotification {
        let event = LedgerChange.missionFinished(.completed, summary: "1/1 groups landed")
            .event(mission: mission, at: Date(timeIntervalSince1970: 1_800_000_000))
        return PendingNotification(
            id: id,
            target: NotificationTarget(name: "ops", kind: .webhook, url: "http://127.0.0.1:\(port)/hook"),
            payload: NotificationPayload(event: event, category: .completed, goal: "g", repository: "/r"),
            failures: 0
        )
    }

    /// A time the test sets.
    final class Now: Sendable {
        private let value = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var date: Date { value.withLock { $0 } }
        func advance(_ seconds: Double) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    @Test func aRefusedTryIsRetriedAfterItsBackoffAndEveryTryIsAnEvent() async throws {
        try await NotificationReceiver.serving([.status(500)], otherwise: .status(200)) { receiver, port in
            let outbox = InMemoryNotificationOutbox()
            let now = Now()
            outbox.enqueue(Self.notification(1, port: port), of: Self.mission, at: now.date)
            let courier = NotificationCourier(environment: [:], processes: SubprocessRunner(), now: { now.date })

            #expect(try await courier.deliverDue(outbox) == 1)
            let refused = try #require(outbox.events.last?.payload(MissionEvent.NotificationTried.self))
            #expect(refused.error == "HTTP 500: noted" && refused.number == 1)
            // Due again after the target's backoff (2 s), not before.
            #expect(refused.retryAt == now.date.addingTimeInterval(2).timeIntervalSince1970)
            now.advance(1)
            #expect(try await courier.deliverDue(outbox) == 0)
            now.advance(1)
            #expect(try await courier.deliverDue(outbox) == 1)
            #expect(outbox.events.map(\.kind) == [.notificationFailed, .notificationDelivered])
            #expect(outbox.entries[1]?.state == .delivered)
            #expect(await receiver.received.count == 2)
        }
    }

    @Test func aHangingReceiverHoldsAFinishedRunForItsGraceAtMostAndTheTryIsCutShort() async throws {
        try await NotificationReceiver.serving(otherwise: .hang) { receiver, port in
            let outbox = InMemoryNotificationOutbox()
            outbox.enqueue(Self.notification(1, port: port), of: Self.mission, at: Date())
            let clock = ManualClock()
            let courier = NotificationCourier(environment: [:], processes: SubprocessRunner(), clock: clock)
            async let finished = courier.deliveringBeside(outbox, mission: Self.mission, grace: .seconds(10)) {
                "the run's result"
            }
            #expect(await receiver.waitForRequests(1))
            // Only the grace is left to wait for: once it is over, the try is given up and recorded as cut short.
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(10))
            #expect(try await finished == "the run's result")
            let tried = try #require(outbox.events.last?.payload(MissionEvent.NotificationTried.self))
            #expect(tried.error?.hasPrefix("cut short") == true)
            #expect(outbox.entries[1]?.state == .pending, "due again for whoever delivers next")
        }
    }
}
