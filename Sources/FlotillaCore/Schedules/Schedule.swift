import Foundation

/// A `[schedule.NAME]` table: missions started on a clock by the daemon (`flotilla serve`), each slot at most once.
package struct Schedule: Sendable, Equatable {
    /// When it fires.
    package enum Trigger: Sendable, Equatable {
        /// A cron expression on a time zone's clock (UTC unless `tz` names one).
        case cron(CronExpression, TimeZone)
        /// Every so many seconds, on slots counted from 1970-01-01 UTC (so every daemon agrees on them).
        case every(seconds: Int)
    }

    /// What a slot does while the schedule's previous mission still runs or waits.
    package enum Overlap: String, Sendable, CaseIterable {
        /// Nothing: the slot is recorded as skipped.
        case skip
        /// Starts another mission (the daemon's `--max-running` queue applies).
        case queue
    }

    /// What a daemon that was down does about the slots it missed.
    package enum CatchUp: String, Sendable, CaseIterable {
        /// Nothing: it waits for the next slot.
        case none
        /// Fires the latest missed slot once.
        case one
    }

    package var name: String
    package var trigger: Trigger
    /// The mission each firing starts: any mission fields, over the repository's settings.
    package var fields: MissionFields
    package var overlap: Overlap = .skip
    package var catchUp: CatchUp = .none
    package var enabled = true

    package init(name: String, trigger: Trigger, fields: MissionFields) {
        self.name = name
        self.trigger = trigger
        self.fields = fields
    }

    /// The first slot after `date`; nil when a cron expression has none within its horizon.
    package func next(after date: Date) -> Date? {
        switch trigger {
        case .cron(let expression, let zone): return expression.next(after: date, in: zone)
        case .every(let seconds):
            let interval = Double(seconds)
            return Date(timeIntervalSince1970: ((date.timeIntervalSince1970 / interval).rounded(.down) + 1) * interval)
        }
    }

    /// The latest slot at or before `now` and after `after`, if one came due in between.
    ///
    /// The search widens backwards from `now` (an hour, then doubling), so a schedule that fires every minute and one
    /// that fires once a year cost about the same.
    package func latest(atOrBefore now: Date, after: Date) -> Date? {
        guard after < now else { return nil }
        if case .every(let seconds) = trigger {
            let slot = Date(
                timeIntervalSince1970: (now.timeIntervalSince1970 / Double(seconds)).rounded(.down) * Double(seconds)
            )
            return slot > after ? slot : nil
        }
        var window: TimeInterval = 3600
        while true {
            let start = max(after, now.addingTimeInterval(-window))
            var found: Date?
            var from = start
            while let next = next(after: from), next <= now {
                found = next
                from = next
            }
            if found != nil || start == after { return found }
            window *= 2
        }
    }

    /// The slots after `date`, at most `count`.
    package func slots(after date: Date, count: Int) -> [Date] {
        var found: [Date] = []
        var from = date
        while found.count < count, let next = next(after: from) {
            found.append(next)
            from = next
        }
        return found
    }

    /// `cron "0 3 * * 1-5" (Europe/Paris)` or `every 15m`.
    package var triggerDescription: String {
        switch trigger {
        case .cron(let expression, let zone): "cron \"\(expression)\" (\(zone.identifier))"
        case .every(let seconds):
            "every "
                + ([(604_800, "w"), (86_400, "d"), (3600, "h"), (60, "m")].first { seconds % $0.0 == 0 }
                    .map { "\(seconds / $0.0)\($0.1)" } ?? "\(seconds)s")
        }
    }

    /// The `source` of the missions it starts.
    package var source: String { "schedule:\(name)" }
}
