import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`), as Vixie cron reads it.
///
/// Fields hold `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, month and day names (`jan`,
/// `mon`), and 0 or 7 for Sunday. When both day fields are restricted, a day matching either fires (`0 9 1 * mon`:
/// the 1st and Mondays).
package struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    package let minutes: Set<Int>
    package let hours: Set<Int>
    package let daysOfMonth: Set<Int>
    package let months: Set<Int>
    /// 0 (Sunday) to 6.
    package let daysOfWeek: Set<Int>
    /// Whether the day fields were `*` (an unrestricted field does not widen the other).
    let anyDayOfMonth: Bool
    let anyDayOfWeek: Bool
    package let description: String

    /// One field: its name, range and the names it accepts.
    private struct Field {
        let name: String
        let range: ClosedRange<Int>
        var names: [String: Int] = [:]
    }

    private static let fields = [
        Field(name: "minute", range: 0...59),
        Field(name: "hour", range: 0...23),
        Field(name: "day of month", range: 1...31),
        Field(
            name: "month",
            range: 1...12,
            names: Dictionary(
                uniqueKeysWithValues: [
                    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
                ]
                .enumerated().map { ($1, $0 + 1) }
            )
        ),
        Field(
            name: "day of week",
            range: 0...7,
            names: Dictionary(
                uniqueKeysWithValues: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"].enumerated().map { ($1, $0) }
            )
        ),
    ]

    /// Parses `text`; the error says which field is wrong and why.
    package init(_ text: String) throws(CronError) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 else {
            throw CronError(
                "`\(text)` has \(parts.count) field\(parts.count == 1 ? "" : "s"); a cron expression has 5: "
                    + "minute hour day-of-month month day-of-week (like `0 3 * * 1-5`)"
            )
        }
        var sets: [Set<Int>] = []
        for (part, field) in zip(parts, Self.fields) { sets.append(try Self.parse(part, field)) }
        minutes = sets[0]
        hours = sets[1]
        daysOfMonth = sets[2]
        months = sets[3]
        daysOfWeek = Set(sets[4].map { $0 % 7 })
        // As Vixie cron: a day field that starts with `*` (`*`, `*/2`) does not widen the other.
        anyDayOfMonth = parts[2].hasPrefix("*")
        anyDayOfWeek = parts[4].hasPrefix("*")
        description = parts.joined(separator: " ")
        // Days of the week come round every week; days of a month only in months that have them (`0 0 30 2 *`).
        let lengths = [1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31]
        if anyDayOfWeek,
            let first = daysOfMonth.min(),
            !months.contains(where: { first <= lengths[$0] ?? 31 })
        {
            throw CronError("`\(text)` never fires: no month it names has a day \(first)")
        }
    }

    private static func parse(_ text: String, _ field: Field) throws(CronError) -> Set<Int> {
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else { throw CronError("the \(field.name) field `\(text)` has an empty item") }
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count <= 2 else { throw CronError("the \(field.name) field `\(item)` has more than one /") }
            var step = 1
            if pieces.count == 2 {
                guard let number = Int(pieces[1]), number >= 1, number <= field.range.upperBound + 1 else {
                    throw CronError(
                        "the \(field.name) field `\(item)`: the step after / must be 1 to \(field.range.upperBound + 1)"
                    )
                }
                step = number
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = field.range.lowerBound...(field.name == "day of week" ? 6 : field.range.upperBound)
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard ends.count <= 2 else { throw CronError("the \(field.name) field `\(item)` is not a range") }
                let low = try value(ends[0], field)
                let high =
                    ends.count == 2 ? try value(ends[1], field) : (pieces.count == 2 ? field.range.upperBound : low)
                guard low <= high else {
                    throw CronError("the \(field.name) field `\(item)` runs backwards (\(low) after \(high))")
                }
                bounds = low...high
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    private static func value(_ text: String, _ field: Field) throws(CronError) -> Int {
        if let number = Int(text) {
            guard field.range.contains(number) else {
                throw CronError(
                    "the \(field.name) field: \(number) is outside \(field.range.lowerBound)-\(field.range.upperBound)"
                )
            }
            return number
        }
        if let named = field.names[text.lowercased()] { return named }
        let names =
            field.names.isEmpty
            ? "" : " or a name (\(field.names.sorted { $0.value < $1.value }.map(\.key).joined(separator: ", ")))"
        throw CronError("the \(field.name) field: `\(text)` is not a number\(names)")
    }

    /// Whether a day fires: its month, and its day of month or of week as Vixie cron combines them.
    func matches(month: Int, day: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        let byMonth = daysOfMonth.contains(day)
        let byWeek = daysOfWeek.contains(weekday)
        switch (anyDayOfMonth, anyDayOfWeek) {
        case (true, true): return true
        case (true, false): return byWeek
        case (false, true): return byMonth
        case (false, false): return byMonth || byWeek
        }
    }
}

/// A cron expression that cannot be read, or cannot fire.
package struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    package var description: String

    package init(_ description: String) { self.description = description }
}
