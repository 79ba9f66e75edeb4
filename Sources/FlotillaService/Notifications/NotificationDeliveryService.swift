import FlotillaCore
import Foundation
import ServiceLifecycle

/// The daemon's delivery of notifications: what is due in the outbox of every repository it serves goes out, so that
/// notifications a mission's process left pending (it exited, crashed, or its receiver was down) still go out, and a
/// restart of the daemon loses none of them.
package struct NotificationDeliveryService: Service {
    let missions: LocalMissions
    let courier: NotificationCourier
    let interval: Duration
    let clock: any Clock<Duration>

    package init(
        missions: LocalMissions,
        courier: NotificationCourier,
        interval: Duration = .milliseconds(500),
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.missions = missions
        self.courier = courier
        self.interval = interval
        self.clock = clock
    }

    /// Looks every ``interval`` until the daemon shuts down; a try under way when it is told to finishes and is
    /// recorded first, so that a receiver that answered is not sent the same notification by the next daemon.
    package func run() async throws {
        let clock = self.clock
        let interval = self.interval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for root in missions.repositories {
                guard let ledger = try? missions.repository(root).existingLedger() else { continue }
                _ = try? await courier.deliverDue(ledger)
            }
            try? await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
        }
    }
}
