import Foundation

extension Schedule {
    /// The keys of a `[schedule.NAME]` table besides mission fields.
    package static let keys = ["cron", "every", "tz", "overlap", "catch_up", "enabled"]

    /// Reads a `[schedule.NAME]` table; every mistake is one line naming the file, the line and the key.
    package static func parse(
        name: String,
        entries: [String: TOMLDocument.Entry],
        file: String,
        line: Int?
    ) throws(ConfigurationError) -> Schedule {
        let table = "schedule.\(name)"
        func fail(_ entry: TOMLDocument.Entry?, _ message: String) -> ConfigurationError {
            ConfigurationError(file: file, line: entry?.line ?? line, message)
        }
        func text(_ key: String) throws(ConfigurationError) -> String? {
            guard let entry = entries[key] else { return nil }
            guard let value = entry.value.stringValue, !value.isEmpty else {
                throw fail(entry, "\(table).\(key) must be a string")
            }
            return value
        }
        guard Pipeline.isName(name) else {
            throw fail(
                nil,
                "[\(table)]: \"\(name)\" is not a name (lowercase letters, digits, - and _, a letter first)"
            )
        }
        let trigger: Trigger
        switch (try text("cron"), try text("every")) {
        case (let cron?, nil):
            let expression: CronExpression
            do {
                expression = try CronExpression(cron)
            } catch {
                throw fail(entries["cron"], "\(table).cron: \(error)")
            }
            var zone = TimeZone(identifier: "UTC") ?? .current
            if let identifier = try text("tz") {
                guard let named = TimeZone(identifier: identifier) else {
                    throw fail(entries["tz"], "\(table).tz: \(identifier) is not a time zone (like Europe/Paris)")
                }
                zone = named
            }
            trigger = .cron(expression, zone)
        case (nil, let every?):
            guard let seconds = Duration.seconds(spelled: every), seconds >= 1, seconds <= 366 * 86_400,
                seconds.rounded() == seconds
            else {
                throw fail(
                    entries["every"],
                    "\(table).every must be whole seconds and a unit, 1s to 366d (like 15m, 6h)"
                )
            }
            if entries["tz"] != nil { throw fail(entries["tz"], "\(table).tz is for cron, not every") }
            trigger = .every(seconds: Int(seconds))
        case (nil, nil):
            throw fail(nil, "[\(table)] needs cron (\"0 3 * * 1-5\") or every (\"15m\")")
        case (.some, .some):
            throw fail(entries["every"], "[\(table)] has both cron and every; keep one")
        }
        var object: [String: JSONValue] = [:]
        for (key, entry) in entries where !keys.contains(key) { object[key] = entry.value }
        let fields: MissionFields
        do {
            fields = try MissionFields.decode(object)
        } catch {
            let first = error.fields.first.map(\.field).map { String($0.prefix { $0 != "[" }) }
            throw ConfigurationError(
                file: file,
                line: first.flatMap { entries[$0]?.line } ?? line,
                error.fields.map { "\(table).\($0.field) \($0.message)" }.joined(separator: "; ")
            )
        }
        var schedule = Schedule(name: name, trigger: trigger, fields: fields)
        if let overlap = try text("overlap") {
            guard let value = Overlap(rawValue: overlap) else {
                throw fail(entries["overlap"], "\(table).overlap must be skip or queue")
            }
            schedule.overlap = value
        }
        if let catchUp = try text("catch_up") {
            guard let value = CatchUp(rawValue: catchUp) else {
                throw fail(entries["catch_up"], "\(table).catch_up must be none or one")
            }
            schedule.catchUp = value
        }
        if let entry = entries["enabled"] {
            guard case .bool(let on) = entry.value else { throw fail(entry, "\(table).enabled must be true or false") }
            schedule.enabled = on
        }
        return schedule
    }
}

extension Duration {
    /// Seconds in `90s`, `15m`, `6h`, `7d`, `2w`; nil when `text` is not a number and one of those units.
    package static func seconds(spelled text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        guard let unit = text.last, let factor = units[unit], let number = Double(text.dropLast()),
            number.isFinite, number >= 0, number * factor < 3.2e9
        else { return nil }
        return number * factor
    }
}
