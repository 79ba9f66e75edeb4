/// Checks a JSON value against the subset of JSON Schema that structured outputs use.
///
/// That is `type` (one or a list), `properties`, `required`, `additionalProperties: false`, `items`, `minItems` and
/// `enum` (`pattern` and the rest are not interpreted: callers check what they need beyond the shape). A required
/// field whose type allows null may be left out, as if it were null.
package enum JSONSchemaCheck {
    /// Problems, each naming its path (`groups[1].criteria`); empty when the value fits.
    package static func problems(_ value: JSONValue, against schema: JSONValue, at path: String = "") -> [String] {
        guard case .object(let rules) = schema else { return [] }
        var problems: [String] = []
        let here = path.isEmpty ? "(answer)" : path
        if let type = rules["type"] {
            let allowed: [String] =
                switch type {
                case .string(let single): [single]
                case .array(let list): list.compactMap(\.stringValue)
                default: []
                }
            if !allowed.isEmpty && !allowed.contains(where: { matches(value, $0) }) {
                return ["\(here): expected \(allowed.joined(separator: " or ")), found \(kind(of: value))"]
            }
        }
        if case .array(let options)? = rules["enum"], !options.contains(value) {
            problems.append("\(here): must be one of \(options.map(\.description).joined(separator: ", "))")
        }
        switch value {
        case .object(let fields):
            let properties: [String: JSONValue] =
                if case .object(let declared)? = rules["properties"] { declared } else { [:] }
            if case .array(let required)? = rules["required"] {
                // A required field that may be null may also be missing (strict schemas must require every field).
                for name in required.compactMap(\.stringValue) where fields[name] == nil && !nullable(properties[name])
                {
                    problems.append("\(path.isEmpty ? "" : path + ".")\(name): missing")
                }
            }
            for (name, field) in fields.sorted(by: { $0.key < $1.key }) {
                let fieldPath = path.isEmpty ? name : "\(path).\(name)"
                if let rule = properties[name] {
                    problems += Self.problems(field, against: rule, at: fieldPath)
                } else if rules["additionalProperties"] == .bool(false) {
                    problems.append("\(fieldPath): not allowed")
                }
            }
        case .array(let items):
            if let minimum = rules["minItems"]?.numberValue, Double(items.count) < minimum {
                problems.append("\(here): needs at least \(Int(minimum)) item(s)")
            }
            if let rule = rules["items"] {
                for (index, item) in items.enumerated() {
                    problems += Self.problems(item, against: rule, at: "\(path)[\(index)]")
                }
            }
        default:
            break
        }
        return problems
    }

    private static func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null):
            true
        case ("number", .number): true
        case ("integer", .number(let number)): number.rounded() == number
        default: false
        }
    }

    private static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    private static func nullable(_ rule: JSONValue?) -> Bool {
        switch rule?["type"] {
        case .string("null")?: true
        case .array(let list)?: list.contains(.string("null"))
        default: false
        }
    }
}
