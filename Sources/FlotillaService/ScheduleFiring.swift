import FlotillaAPI
import FlotillaCore
import FlotillaStore
import Foundation

/// The daemon's schedules: at each look, each enabled `[schedule.NAME]` of each served repository whose slot came due
/// starts its mission (`source` `schedule:NAME`), unless the slot was claimed before (by this daemon before a
/// restart, or by another), or the last mission still runs (`overlap = "skip"`).
///
/// A slot that came due while no daemon ran is skipped, or, with `catch_up = "one"`, the latest such slot fires. The
/// slots are `schedule_slots` in the repository's ledger: claimed once, then settled with what they did.
package actor ScheduleFiring {
    /// When this daemon started: slots due before it came due while no daemon ran.
    private let startedAt: Date
    /// Configuration mistakes already reported, so the log says each once.
    private var reported: Set<String> = []

    package init(startedAt: Date = Date()) {
        self.startedAt = startedAt
    }

    /// Fires what is due at `now`; returns what it did, for the daemon's log.
    package func fireDue(_ missions: LocalMissions, now: Date) async -> [String] {
        var actions: [String] = []
        for root in missions.repositories {
            let schedules: [Schedule]
            let handle: MissionRepository
            do {
                handle = try missions.repository(root)
                schedules = try Configuration.load(root: root, environment: handle.composition.environment)
                    .schedules.values.filter(\.enabled).sorted { $0.name < $1.name }
            } catch {
                let message = "warning: the schedules of \(root) are not read: \(error)"
                if reported.insert(message).inserted { actions.append(message) }
                continue
            }
            guard !schedules.isEmpty, let ledger = try? handle.openLedger() else { continue }
            for schedule in schedules {
                do {
                    // A slot is claimed, then settled: a daemon shutting down meanwhile waits for it rather than
                    // cancel it between the two (its slot would stay `firing`, never to fire).
                    let firing = Task {
                        try await self.fire(schedule, in: root, ledger: ledger, missions: missions, now: now)
                    }
                    if let action = try await firing.value { actions.append(action) }
                } catch {
                    actions.append("warning: schedule \(schedule.name) in \(root): \(error)")
                }
            }
        }
        return actions
    }

    private func fire(
        _ schedule: Schedule,
        in root: String,
        ledger: SQLiteLedger,
        missions: LocalMissions,
        now: Date
    ) async throws -> String? {
        let last = try await ledger.scheduleSlots(schedule.name, limit: 1).first
        // Slots after the last one recorded (or after this daemon started, for a schedule never fired): the latest
        // that came due is the one that counts.
        guard let slot = schedule.latest(atOrBefore: now, after: last?.slot ?? startedAt),
            try await ledger.claimScheduleSlot(schedule.name, at: slot, now: now)
        else { return nil }
        var settled = ScheduleSlot(schedule: schedule.name, slot: slot, firedAt: now, outcome: .skipped)
        if slot <= startedAt && schedule.catchUp == .none {
            settled.reason = "it came due while no daemon ran (catch_up = \"none\")"
        } else if schedule.overlap == .skip, let running = try await stillRunning(schedule, ledger, missions) {
            settled.reason = "its last mission \(running) still runs (overlap = \"skip\")"
        } else {
            var fields = schedule.fields
            fields.source = schedule.source
            do {
                let mission = try await missions.create(fields, repository: root)
                settled.outcome = .started
                settled.mission = MissionID(mission.id)
            } catch {
                settled.outcome = .failed
                settled.reason = "\(error)"
            }
        }
        try await ledger.settleScheduleSlot(settled)
        let when = ISO8601DateFormatter().string(from: slot)
        switch settled.outcome {
        case .started: return "schedule \(schedule.name): slot \(when) started \(settled.mission?.rawValue ?? "")"
        case .failed: return "warning: schedule \(schedule.name): slot \(when) failed: \(settled.reason ?? "")"
        case .skipped, .firing: return "schedule \(schedule.name): slot \(when) skipped: \(settled.reason ?? "")"
        }
    }

    /// The schedule's last mission, if it has not ended (it runs, waits to start or waits in the queue).
    private func stillRunning(
        _ schedule: Schedule,
        _ ledger: SQLiteLedger,
        _ missions: LocalMissions
    ) async throws -> MissionID? {
        let started = try await ledger.scheduleSlots(schedule.name, limit: 50).first { $0.outcome == .started }
        guard let id = started?.mission, let mission = try await missions.mission(id) else { return nil }
        let ended = ["completed", "blocked", "failed", "stopped"].contains(mission.state)
        return ended ? nil : id
    }
}
