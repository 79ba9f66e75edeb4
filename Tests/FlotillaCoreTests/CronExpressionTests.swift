import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// Cron expressions and schedules: known schedules (weekends, month ends, leap days, both clock changes), every
/// mistake named, and the next slot checked against a minute-by-minute scan for random expressions.
@Suite("Cron expressions and schedules")
struct CronExpressionTests {
    static let utc = TimeZone(identifier: "UTC") ?? .current
    static let newYork = TimeZone(identifier: "America/New_York") ?? .current

    static func instant(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text) ?? .distantPast
    }

    static func next(_ expression: String, after: String, in zone: TimeZone = utc, count: Int = 1) throws -> [String] {
        let cron = try CronExpression(expression)
        var found: [String] = []
        var from = instant(after)
        for _ in 0..<count {
            guard let next = cron.next(after: from, in: zone) else { break }
            found.append(ISO8601DateFormatter().string(from: next))
            from = next
        }
        return found
    }

    @Test func knownSchedulesFireWhenPeopleExpect() throws {
        // Weekdays at 09:00, from a Friday afternoon: Monday.
        #expect(try Self.next("0 9 * * 1-5", after: "2026-12-11T17:00:00Z") == ["2026-12-14T09:00:00Z"])
        #expect(try Self.next("0 9 * * mon-fri", after: "2026-12-11T08:59:00Z") == ["2026-12-11T09:00:00Z"])
        // Every 15 minutes, and a range with a step.
        #expect(
            try Self.next("*/15 * * * *", after: "2026-12-08T10:07:00Z", count: 3) == [
                "2026-12-08T10:15:00Z", "2026-12-08T10:30:00Z", "2026-12-08T10:45:00Z",
            ]
        )
        #expect(
            try Self.next("0 8-18/5 * * *", after: "2026-12-08T00:00:00Z", count: 4).map {
                String($0.dropFirst(11).prefix(2))
            } == ["08", "13", "18", "08"]
        )
        // The 31st: months without one are passed over; 29 February waits for a leap year.
        #expect(try Self.next("0 0 31 * *", after: "2027-01-31T00:00:00Z") == ["2027-03-31T00:00:00Z"])
        #expect(try Self.next("0 0 29 feb *", after: "2026-01-01T00:00:00Z") == ["2028-02-29T00:00:00Z"])
        // Both day fields restricted: either fires (the 1st, and Sundays); 7 is Sunday too.
        #expect(
            try Self.next("0 12 1 * 7", after: "2026-11-28T00:00:00Z", count: 3) == [
                "2026-11-29T12:00:00Z", "2026-12-01T12:00:00Z", "2026-12-06T12:00:00Z",
            ]
        )
        // A day-of-month step starting with * does not widen the weekday (Vixie cron): odd days that are Mondays.
        #expect(try Self.next("0 0 */2 * 1", after: "2026-12-01T00:00:00Z") == ["2026-12-07T00:00:00Z"])
    }

    @Test func clockChangesSkipTheMissingHourAndFireTheRepeatedOneOnce() throws {
        // New York springs forward on 8 March 2026: 02:30 does not happen that day.
        #expect(
            try Self.next("30 2 * * *", after: "2026-03-07T12:00:00Z", in: Self.newYork, count: 2) == [
                "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z",
            ]
        )
        // …and falls back on 1 November 2026: 01:30 happens twice, and fires once, the first time (EDT).
        #expect(
            try Self.next("30 1 * * *", after: "2026-10-31T12:00:00Z", in: Self.newYork, count: 2) == [
                "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z",
            ]
        )
    }

    @Test func everyMistakeNamesItsField() {
        let cases: [(String, String)] = [
            ("0 9 * *", "has 4 fields"),
            ("60 * * * *", "the minute field: 60 is outside 0-59"),
            ("0 24 * * *", "the hour field: 24 is outside 0-23"),
            ("0 0 0 * *", "the day of month field: 0 is outside 1-31"),
            ("0 0 * 13 *", "the month field: 13 is outside 1-12"),
            ("0 0 * * 8", "the day of week field: 8 is outside 0-7"),
            ("0 0 * * funday", "the day of week field: `funday` is not a number or a name"),
            ("*/0 * * * *", "the step after / must be 1 to 60"),
            ("0 5-3 * * *", "runs backwards"),
            ("0,,5 * * * *", "has an empty item"),
            ("0 0 30 feb *", "never fires: no month it names has a day 30"),
        ]
        for (expression, message) in cases {
            #expect(throws: CronError.self, "\(expression)") { try CronExpression(expression) }
            do {
                _ = try CronExpression(expression)
            } catch {
                #expect(error.description.contains(message), "\(expression): \(error)")
            }
        }
    }

    /// A field for a random expression: `*`, a number, a range, a step or a list.
    static func field(_ range: ClosedRange<Int>, _ random: inout SeededGenerator) -> String {
        let pick = { (generator: inout SeededGenerator) in Int.random(in: range, using: &generator) }
        switch Int.random(in: 0..<6, using: &random) {
        case 0, 1: return "*"
        case 2: return String(pick(&random))
        case 3:
            let (a, b) = (pick(&random), pick(&random))
            return "\(min(a, b))-\(max(a, b))"
        case 4: return "*/\(Int.random(in: 1...max(1, range.upperBound / 2), using: &random))"
        default: return "\(pick(&random)),\(pick(&random))"
        }
    }

    /// The next slot the slow way: every minute after `date`, within `days`; a repeated wall time counts once.
    static func scan(_ cron: CronExpression, after date: Date, in zone: TimeZone, days: Int) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let fields: Set<Calendar.Component> = [.year, .month, .day, .hour, .minute, .weekday]
        var minute = (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        let end = date.timeIntervalSince1970 + Double(days) * 86_400
        while minute <= end {
            let instant = Date(timeIntervalSince1970: minute)
            let shown = calendar.dateComponents(fields, from: instant)
            if let month = shown.month, let day = shown.day, let weekday = shown.weekday, let hour = shown.hour,
                let minuteOfHour = shown.minute, cron.hours.contains(hour), cron.minutes.contains(minuteOfHour),
                matchesDay(cron, month: month, day: day, weekday: weekday - 1)
            {
                let hourEarlier = calendar.dateComponents(fields, from: instant.addingTimeInterval(-3600))
                let repeated = hourEarlier.day == day && hourEarlier.hour == hour && hourEarlier.minute == minuteOfHour
                if !repeated { return instant }
            }
            minute += 60
        }
        return nil
    }

    /// Vixie cron's day rule, written out again: with both day fields restricted, either matches.
    static func matchesDay(_ cron: CronExpression, month: Int, day: Int, weekday: Int) -> Bool {
        guard cron.months.contains(month) else { return false }
        let text = cron.description.split(separator: " ")
        let anyDay = text[2].hasPrefix("*")
        let anyWeekday = text[4].hasPrefix("*")
        if anyDay && anyWeekday { return true }
        if anyDay { return cron.daysOfWeek.contains(weekday) }
        if anyWeekday { return cron.daysOfMonth.contains(day) }
        return cron.daysOfMonth.contains(day) || cron.daysOfWeek.contains(weekday)
    }

    @Test(arguments: [utc, newYork])
    func theNextSlotIsTheFirstMinuteAScanFinds(_ zone: TimeZone) throws {
        var random = SeededGenerator(seed: 20_261_208)
        var compared = 0
        for _ in 0..<120 {
            // Months and days of month left open mostly, so that most expressions fire within the scanned days.
            let expression = [
                Self.field(0...59, &random), Self.field(0...23, &random),
                Int.random(in: 0..<4, using: &random) == 0 ? Self.field(1...31, &random) : "*", "*",
                Self.field(0...6, &random),
            ].joined(separator: " ")
            guard let cron = try? CronExpression(expression) else { continue }
            // Start anywhere in 2026, including the days the clocks change.
            let start = Self.instant("2026-01-01T00:00:00Z").addingTimeInterval(
                Double(Int.random(in: 0..<(365 * 1440), using: &random)) * 60
                    + Double(Int.random(in: 0..<60, using: &random))
            )
            let days = 9
            let expected = Self.scan(cron, after: start, in: zone, days: days)
            let found = cron.next(after: start, in: zone)
            if let expected {
                #expect(found == expected, "\(expression) after \(start) on \(zone.identifier)")
                compared += 1
            } else {
                #expect(found.map { $0 > start.addingTimeInterval(Double(days) * 86_400) } ?? true, "\(expression)")
            }
        }
        #expect(compared > 60, "most random expressions fire within the scanned days")
    }

    @Test func intervalSchedulesCountSlotsFromTheEpoch() throws {
        let every = Schedule(name: "tick", trigger: .every(seconds: 900), fields: MissionFields())
        #expect(
            every.slots(after: Self.instant("2026-12-08T10:07:30Z"), count: 2)
                == [Self.instant("2026-12-08T10:15:00Z"), Self.instant("2026-12-08T10:30:00Z")]
        )
        #expect(every.next(after: Self.instant("2026-12-08T10:15:00Z")) == Self.instant("2026-12-08T10:30:00Z"))
    }

    @Test func scheduleTablesAreReadWithEveryMistakeOnItsLine() throws {
        let file = try ConfigurationFile.parse(
            """
            [schedule.nightly]
            cron = "0 3 * * 1-5"
            tz = "Europe/Paris"
            goal = "Keep the dependencies fresh"
            agent_command = "./agent.sh"
            overlap = "queue"
            catch_up = "one"

            [schedule.tick]
            every = "15m"
            enabled = false
            """,
            file: "flotilla.toml",
            scope: .project
        )
        let nightly = try #require(file.schedules["nightly"])
        #expect(nightly.triggerDescription == "cron \"0 3 * * 1-5\" (Europe/Paris)")
        #expect(nightly.fields.goal == "Keep the dependencies fresh")
        #expect(nightly.overlap == .queue && nightly.catchUp == .one && nightly.enabled)
        #expect(file.schedules["tick"]?.trigger == .every(seconds: 900))
        #expect(file.schedules["tick"]?.enabled == false)

        func message(_ text: String, scope: ConfigurationFile.Scope = .project) -> String? {
            do {
                _ = try ConfigurationFile.parse(text, file: "flotilla.toml", scope: scope)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(
            message("[schedule.a]\ngoal = 'x'")
                == "flotilla.toml:1: [schedule.a] needs cron (\"0 3 * * 1-5\") or every (\"15m\")"
        )
        #expect(
            message("[schedule.a]\n\ncron = '0 9 * *'")?.hasPrefix(
                "flotilla.toml:3: schedule.a.cron: `0 9 * *` has 4 fields"
            ) == true
        )
        #expect(
            message("[schedule.a]\ncron = '0 9 * * *'\ntz = 'Mars/Olympus'")
                == "flotilla.toml:3: schedule.a.tz: Mars/Olympus is not a time zone (like Europe/Paris)"
        )
        #expect(message("[schedule.a]\nevery = '0.5s'")?.hasPrefix("flotilla.toml:2: schedule.a.every must be") == true)
        #expect(
            message("[schedule.a]\nevery = '1h'\nagents = 'two'")
                == "flotilla.toml:3: schedule.a.agents must be an integer"
        )
        #expect(
            message("[schedule.a]\nevery = '1h'\noverlap = 'wait'")
                == "flotilla.toml:3: schedule.a.overlap must be skip or queue"
        )
        #expect(
            message("[schedule.a]\nevery = '1h'", scope: .user)?.contains("belongs in the repository's flotilla.toml")
                == true
        )
        #expect(message("[schedule.Nightly]\nevery = '1h'")?.contains("is not a name") == true)
    }
}
