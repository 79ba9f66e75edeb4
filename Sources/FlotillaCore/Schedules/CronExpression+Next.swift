import Foundation

extension CronExpression {
    /// How far ahead ``next(after:in:)`` looks: a 29 February on a given weekday can be 28 years away, but a schedule
    /// that waits more than eight is not one anybody means.
    package static let horizonDays = 366 * 8

    /// The first minute after `date` at which the expression fires, on `zone`'s clock; nil when none within
    /// ``horizonDays``.
    ///
    /// A local time that does not exist that day (the hour skipped when clocks go forward) does not fire; one that
    /// happens twice (when they go back) fires once, the first time.
    package func next(after date: Date, in zone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let hourList = hours.sorted()
        let minuteList = minutes.sorted()
        var day = calendar.startOfDay(for: date)
        for _ in 0..<Self.horizonDays {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday,
                matches(month: month, day: dayOfMonth, weekday: weekday - 1)
            {
                for hour in hourList {
                    for minute in minuteList {
                        let wall = DateComponents(year: year, month: month, day: dayOfMonth, hour: hour, minute: minute)
                        guard let instant = Self.firstInstant(of: wall, calendar) else { continue }
                        if instant > date { return instant }
                    }
                }
            }
            guard let following = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = calendar.startOfDay(for: following)
        }
        return nil
    }

    /// The first instant `calendar`'s clock shows `wall`; nil when it never does (skipped by a change of clocks).
    static func firstInstant(of wall: DateComponents, _ calendar: Calendar) -> Date? {
        guard let instant = calendar.date(from: wall) else { return nil }
        let fields: Set<Calendar.Component> = [.year, .month, .day, .hour, .minute]
        func shows(_ date: Date) -> Bool {
            let shown = calendar.dateComponents(fields, from: date)
            return shown.year == wall.year && shown.month == wall.month && shown.day == wall.day
                && shown.hour == wall.hour && shown.minute == wall.minute
        }
        guard shows(instant) else { return nil }
        // When the clocks went back, the same wall time came an hour earlier too.
        let earlier = instant.addingTimeInterval(-3600)
        return shows(earlier) ? earlier : instant
    }
}
