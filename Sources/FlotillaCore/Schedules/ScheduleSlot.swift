import Foundation

/// One slot of a schedule as the ledger holds it: claimed once (its name and time are the key), then settled.
package struct ScheduleSlot: Sendable, Equatable {
    package enum Outcome: String, Sendable, CaseIterable {
        /// Claimed; the mission is being created (a daemon that died here leaves it so: the slot never fires twice).
        case firing
        /// Its mission was created.
        case started
        /// Passed over: the last mission still ran (`overlap = "skip"`), or it came due while no daemon ran.
        case skipped
        /// Its mission could not be created (the reason says why).
        case failed
    }

    package var schedule: String
    package var slot: Date
    package var firedAt: Date
    package var outcome: Outcome
    package var mission: MissionID?
    package var reason: String?

    package init(
        schedule: String,
        slot: Date,
        firedAt: Date,
        outcome: Outcome,
        mission: MissionID? = nil,
        reason: String? = nil
    ) {
        self.schedule = schedule
        self.slot = slot
        self.firedAt = firedAt
        self.outcome = outcome
        self.mission = mission
        self.reason = reason
    }
}
