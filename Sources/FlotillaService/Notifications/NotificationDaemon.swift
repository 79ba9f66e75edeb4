import FlotillaCore
import Foundation
import ServiceLifecycle

/// The daemon's courier: delivers what is due in the outbox of every repository it serves, so that notifications a
/// mission's process left pending (it exited, crashed, or its receiver was down) still go out, and a restart of the
/// daemon loses none of them.
package struct NotificationDaemon: Service {
    let missions: LocalMissions
    let courier: NotificationCourier
    let interval: Duration

    package init(missions: LocalMissions, courier: NotificationCourier, interval: Duration = .milliseconds(500)) {
        self.missions = missions
        self.courier = courier
        self.interval = interval
    }

    /// Looks every ``interval`` until the daemon shuts down; a try under way when it is told to finishes and is
    /// recorded first, so that a receiver that answered is not sent the same notification by the next daemon.
    package func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for root in missions.repositories {
                guard let ledger = try? missions.repository(root).existingLedger() else { continue }
                _ = try? await courier.deliverDue(ledger)
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
