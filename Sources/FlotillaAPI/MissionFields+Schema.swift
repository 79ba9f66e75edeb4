import FlotillaCore

extension MissionFields {
    /// What a tag (and a metadata name) may be, as ``MissionFieldRule/isTag(_:)`` checks it.
    static let tagPattern = "^[A-Za-z0-9._:/-]{1,64}$"

    /// A mission request as JSON Schema, from the fields' rules: the body of `POST /missions` and `POST /webhook`,
    /// and the input of the MCP tool that starts a mission.
    package static var requestSchema: JSONValue {
        var properties: [String: JSONValue] = [:]
        for key in MissionFields.CodingKeys.allCases {
            let rule = key.rule
            if case .flotilla = rule.scope { continue }
            // null stands for "not given": the layers below (flotilla.toml, defaults) decide.
            var schema: [String: JSONValue] = [
                "type": .array([.string(rule.jsonType), "null"]), "description": .string(rule.summary),
            ]
            switch rule.kind {
            case .string(let maxLength, _):
                schema["minLength"] = 1
                schema["maxLength"] = .number(Double(maxLength))
                schema["pattern"] = "\\S"
            case .choice(let names): schema["enum"] = .array(names.map(JSONValue.string) + [.null])
            case .integer(let range):
                schema["minimum"] = .number(Double(rule.uncappable ? -1 : range.lowerBound))
                schema["maximum"] = .number(Double(range.upperBound))
            case .number(let minimum, let maximum):
                schema["minimum"] = .number(rule.uncappable ? -1 : minimum)
                if let maximum { schema["maximum"] = .number(maximum) }
            case .boolean: break
            case .list(let item):
                var items: [String: JSONValue] = ["type": "string", "minLength": 1]
                if case .choice(let names) = item {
                    items["enum"] = .array(names.map(JSONValue.string))
                    schema["uniqueItems"] = true
                }
                if case .tag = item {
                    items["maxLength"] = 64
                    items["pattern"] = .string(Self.tagPattern)
                }
                schema["items"] = .object(items)
            case .map(let maxEntries, let maxLength):
                schema["maxProperties"] = .number(Double(maxEntries))
                schema["propertyNames"] = .object(["maxLength": 64, "pattern": .string(Self.tagPattern)])
                schema["additionalProperties"] = .object(["type": "string", "maxLength": .number(Double(maxLength))])
            }
            if rule.uncappable {
                // -1 (uncapped) or the range: a gap the keywords above cannot say alone.
                let lower: Double =
                    switch rule.kind {
                    case .integer(let range): Double(range.lowerBound)
                    case .number(let minimum, _): minimum
                    default: 0
                    }
                schema["not"] = .object(["type": "number", "exclusiveMinimum": -1, "exclusiveMaximum": .number(lower)])
            }
            if let value = rule.defaultValue { schema["default"] = value }
            properties[key.rawValue] = .object(schema)
        }
        return .object([
            "type": "object",
            "additionalProperties": false,
            "description": .string(
                "A mission's fields, over the repository's flotilla.toml and config.toml. A backend is required, "
                    + "here or there: backend, agent_command (command) or scenario (simulate)."
            ),
            "properties": .object(properties),
        ])
    }
}
