/// How one mission field is typed, bounded, defaulted and layered: the single source for validation, the OpenAPI
/// schema and the keys configuration files accept.
package struct MissionFieldRule: Sendable {
    package enum Kind: Sendable {
        /// Text of at most `maxLength` characters (code points, as JSON Schema counts); a path when `isPath` (made absolute against the layer's directory).
        case string(maxLength: Int, isPath: Bool)
        /// One of the given names.
        case choice([String])
        case integer(ClosedRange<Int>)
        case number(atLeast: Double, atMost: Double? = nil)
        case boolean
        case list(Item)
        /// Names to text (`{"ticket": "ABC-12"}`): at most `maxEntries`, each name a ``Item/tag``, each text at most
        /// `maxLength` characters.
        case map(maxEntries: Int, maxLength: Int)
    }

    /// What a list holds.
    package enum Item: Sendable {
        case text
        /// A path, made absolute like a string path.
        case path
        case choice([String])
        /// `host`, `host:port` or `*.domain`.
        case host
        /// `PROVIDER=PATH`, the path made absolute.
        case keyFile
        /// One argument of a command line: order and repeats matter, so a list given in a higher layer replaces
        /// a lower one's instead of adding to it.
        case argument
        /// A label: letters, digits and `._:/-`, at most 64 characters.
        case tag
    }

    /// Where a field may be given.
    package enum Scope: Sendable {
        /// Flags, configuration files, the environment and requests.
        case anywhere
        /// Flags and requests only: what one mission asks, never a project's standing default.
        case requestOnly
        /// Set by Flotilla itself (where a mission came from): neither a request nor settings may give it.
        case flotilla
    }

    package var kind: Kind
    /// Whether -1 stands for "uncapped" besides the kind's range.
    package var uncappable: Bool
    package var scope: Scope
    /// What it is when no layer gives it.
    package var defaultValue: JSONValue?
    /// For the OpenAPI document and `flotilla init`.
    package var summary: String

    package init(
        _ kind: Kind,
        uncappable: Bool = false,
        scope: Scope = .anywhere,
        default defaultValue: JSONValue? = nil,
        _ summary: String
    ) {
        self.kind = kind
        self.uncappable = uncappable
        self.scope = scope
        self.defaultValue = defaultValue
        self.summary = summary
    }

    package static func text(maxLength: Int = 4096, _ summary: String, scope: Scope = .anywhere) -> MissionFieldRule {
        MissionFieldRule(.string(maxLength: maxLength, isPath: false), scope: scope, summary)
    }

    package static func path(_ summary: String) -> MissionFieldRule {
        MissionFieldRule(.string(maxLength: 4096, isPath: true), summary)
    }

    package static func choice<Choice: RawRepresentable & CaseIterable>(
        _ type: Choice.Type,
        _ summary: String
    ) -> MissionFieldRule where Choice.RawValue == String {
        MissionFieldRule(.choice(type.allCases.map(\.rawValue)), summary)
    }

    /// Whether layers add up (a project's protected paths stay protected whatever a request says).
    package var accumulates: Bool {
        if case .list(let item) = kind, case .choice = item { return false }
        if case .list(.argument) = kind { return false }
        if case .list = kind { return true }
        return false
    }

    /// The JSON Schema type name.
    package var jsonType: String {
        switch kind {
        case .string, .choice: "string"
        case .integer: "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .list: "array"
        case .map: "object"
        }
    }

    /// Checks one value; returns the problem, if any, as the message after the field's name.
    package func problem(with value: JSONValue) -> String? {
        switch kind {
        case .string(let maxLength, _):
            guard case .string(let text) = value else { return "must be a string" }
            if Self.isBlank(text) { return "must not be empty" }
            if text.unicodeScalars.count > maxLength { return "must be at most \(maxLength) characters" }
        case .choice(let names):
            guard case .string(let text) = value else { return "must be a string" }
            if !names.contains(text) { return "must be one of \(names.joined(separator: ", "))" }
        case .integer(let range):
            guard case .number(let number) = value, number.rounded() == number, abs(number) < 1e15 else {
                return "must be an integer"
            }
            if uncappable && number == -1 { return nil }
            if !range.contains(Int(number)) {
                return "must be \(uncappable ? "-1 (uncapped) or " : "")between \(range.lowerBound) and "
                    + "\(range.upperBound)"
            }
        case .number(let minimum, let maximum):
            guard case .number(let number) = value, number.isFinite else { return "must be a number" }
            if uncappable && number == -1 { return nil }
            if let maximum, number < minimum || number > maximum {
                return "must be between \(JSONValue.number(minimum)) and \(JSONValue.number(maximum))"
            }
            if number < minimum {
                return "must be \(uncappable ? "-1 (uncapped) or " : "")at least \(JSONValue.number(minimum))"
            }
        case .boolean:
            guard case .bool = value else { return "must be true or false" }
        case .list:
            guard case .array = value else { return "must be an array of strings" }
        case .map(let maxEntries, let maxLength):
            guard case .object(let entries) = value else { return "must be an object of names to strings" }
            if entries.count > maxEntries { return "must have at most \(maxEntries) names" }
            for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
                if !Self.isTag(name) { return "has a name that is not a tag (letters, digits, ._:/-): \(name)" }
                guard case .string(let text) = entry else { return "\(name) must be a string" }
                if text.unicodeScalars.count > maxLength { return "\(name) must be at most \(maxLength) characters" }
            }
        }
        return nil
    }

    /// Checks one item of a list; returns the problem, if any.
    package func problem(withItem value: JSONValue) -> String? {
        guard case .list(let item) = kind else { return nil }
        guard case .string(let text) = value, !text.isEmpty else { return "must be a non-empty string" }
        switch item {
        case .text, .path, .argument: return nil
        case .tag: return Self.isTag(text) ? nil : "must be letters, digits and ._:/- only (at most 64), not \(text)"
        case .choice(let names):
            return names.contains(text) ? nil : "must be one of \(names.joined(separator: ", ")), not \(text)"
        case .host:
            return Self.isHostPattern(text) ? nil : "must be a host, host:port or *.domain, not \(text)"
        case .keyFile:
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2, APIKeys.variable(forConfigKey: parts[0]) != nil, !parts[1].isEmpty { return nil }
            return
                "must be PROVIDER=PATH with PROVIDER one of \(APIKeys.kinds.map(\.configKey).joined(separator: ", "))"
        }
    }

    /// Whether `text` has nothing but white space, as the schema's `\S` pattern (ECMAScript's `\s`) counts it.
    package static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            scalar.properties.generalCategory == .spaceSeparator
                || ["\t", "\n", "\u{0B}", "\u{0C}", "\r", "\u{FEFF}", "\u{2028}", "\u{2029}"].contains(scalar)
        }
    }

    /// A tag or metadata name: 1 to 64 of ASCII letters, digits and `._:/-`.
    package static func isTag(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._:/-".contains($0)) }
    }

    /// `host`, `host:port`, `[v6]:port` or `*.domain`: letters, digits, `.-_*:[]` only, a port that is a number.
    package static func isHostPattern(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 253,
            text.allSatisfy({ $0.isLetter || $0.isNumber || ".-_*:[]".contains($0) })
        else { return false }
        if let colon = text.lastIndex(of: ":"), !text.hasPrefix("["), text.filter({ $0 == ":" }).count == 1 {
            return UInt16(text[text.index(after: colon)...]) != nil && colon != text.startIndex
        }
        return true
    }
}
