import Foundation

extension MissionFields {
    /// Where a layer of fields comes from, which decides the fields it may hold and how problems are named.
    package enum Source: Sendable {
        /// Flags, a request body: every field.
        case request
        /// A configuration file or the environment: no ``MissionFieldRule/Scope/requestOnly`` field.
        case settings
    }

    /// The keys a configuration file (and the environment) may set.
    package static let settingKeys: [CodingKeys] = CodingKeys.allCases.filter {
        if case .anywhere = $0.rule.scope { return true }
        return false
    }

    /// Decodes a JSON object, checking every field against its rule; the error names every bad field at once.
    ///
    /// `name` turns a field (`agents`, `allow_hosts[1]`) into what the user wrote (`--agents`,
    /// `flotilla.toml:3: agents`, `FLOTILLA_AGENTS`) for the error's message; its ``FlotillaError/fields`` keep the
    /// field names.
    package static func decode(
        _ object: [String: JSONValue],
        from source: Source = .request,
        name: (String) -> String = { $0 }
    ) throws(FlotillaError) -> MissionFields {
        var problems: [FieldProblem] = []
        for (key, value) in object.sorted(by: { $0.key < $1.key }) where value != .null {
            guard let field = CodingKeys(rawValue: key) else {
                problems.append(FieldProblem(field: key, message: "is not a field of a mission"))
                continue
            }
            let rule = field.rule
            if source == .settings, case .requestOnly = rule.scope {
                problems.append(FieldProblem(field: key, message: "belongs to one mission's request, not to settings"))
                continue
            }
            if case .flotilla = rule.scope {
                problems.append(FieldProblem(field: key, message: "is set by Flotilla, not by a request or settings"))
                continue
            }
            if let problem = rule.problem(with: value) {
                problems.append(FieldProblem(field: key, message: problem))
            } else if case .array(let items) = value {
                for (index, item) in items.enumerated() {
                    if let problem = rule.problem(withItem: item) {
                        problems.append(FieldProblem(field: "\(key)[\(index)]", message: problem))
                    }
                }
            }
        }
        if problems.isEmpty {
            let fields = try decodeChecked(.object(object.filter { $0.value != .null }))
            problems = fields.crossFieldProblems()
            if problems.isEmpty { return fields }
        }
        throw FlotillaError.invalid(
            problems.map { "\(name($0.field)) \($0.message)" }.joined(separator: "; "),
            fields: problems
        )
    }

    /// Decodes a request body: a JSON object of fields.
    package static func decode(json body: Data) throws(FlotillaError) -> MissionFields {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: body)
        } catch {
            throw FlotillaError.invalid(
                "the body is not valid JSON",
                fields: [FieldProblem(field: "(body)", message: "is not valid JSON")]
            )
        }
        guard case .object(let object) = value else {
            throw FlotillaError.invalid(
                "the body must be a JSON object",
                fields: [FieldProblem(field: "(body)", message: "must be a JSON object")]
            )
        }
        return try decode(object)
    }

    /// The fields the environment sets: `FLOTILLA_<FIELD>` for each setting (`FLOTILLA_MAX_COST_USD=5`,
    /// `FLOTILLA_PROTECT=a,b`).
    package static func environment(_ environment: [String: String]) throws(FlotillaError) -> MissionFields {
        var object: [String: JSONValue] = [:]
        for key in settingKeys {
            guard let text = environment[variable(for: key)] else { continue }
            switch key.rule.kind {
            case .string, .choice: object[key.rawValue] = .string(text)
            case .integer, .number:
                object[key.rawValue] = Double(text.trimmingWhitespace()).map(JSONValue.number) ?? .string(text)
            case .boolean:
                let flags = ["true": true, "1": true, "yes": true, "false": false, "0": false, "no": false]
                object[key.rawValue] =
                    flags[text.trimmingWhitespace().lowercased()].map(JSONValue.bool) ?? .string(text)
            case .list:
                object[key.rawValue] = .array(
                    text.split(separator: ",").map { .string(String($0).trimmingWhitespace()) }
                )
            case .map: continue
            }
        }
        return try decode(object, from: .settings) { field in
            variable(for: field)
        }
    }

    /// `FLOTILLA_MAX_COST_USD` for `max_cost_usd`.
    package static func variable(for key: CodingKeys) -> String { variable(for: key.rawValue) }

    private static func variable(for field: String) -> String {
        "FLOTILLA_" + field.prefix { $0 != "[" }.uppercased()
    }

    /// The problems between fields, once each is valid on its own.
    package func crossFieldProblems() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if let architect, ModelChoice(architect) == nil {
            problems.append(
                FieldProblem(field: "architect", message: "must be \(ModelChoice.help), not `\(architect)`")
            )
        }
        if architectURL != nil, architect.flatMap(ModelChoice.init)?.api != .openai {
            problems.append(FieldProblem(field: "architect_url", message: "is for architect openai[:MODEL]"))
        }
        if acceptance != nil && acceptancePath != nil {
            problems.append(FieldProblem(field: "acceptance_path", message: "cannot be given together with acceptance"))
        }
        if let callbackURL {
            let url = URL(string: callbackURL)
            if url == nil || !["http", "https"].contains(url?.scheme?.lowercased() ?? "") || url?.host?.isEmpty != false
            {
                problems.append(FieldProblem(field: "callback_url", message: "must be an http:// or https:// URL"))
            }
        }
        let fallbacks = fallbackBackends ?? []
        for (index, fallback) in fallbacks.enumerated()
        where fallback == backend || fallbacks[..<index].contains(fallback) {
            problems.append(FieldProblem(field: "fallback_backends[\(index)]", message: "repeats \(fallback.rawValue)"))
        }
        if !fallbacks.isEmpty, let backend, !backend.isAgentCLI {
            problems.append(
                FieldProblem(
                    field: "fallback_backends",
                    message: "needs an agent CLI backend to fall back from, not \(backend.rawValue)"
                )
            )
        }
        return problems
    }

    /// The fields as a JSON object, without those not given.
    package var jsonObject: [String: JSONValue] {
        guard let data = try? JSONEncoder().encode(self),
            case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { return [:] }
        return object
    }

    /// These fields over `lower`: a field given here wins, but lists add up (a project's protected paths stay
    /// protected whatever a request says).
    package func layered(over lower: MissionFields) -> MissionFields {
        var merged = lower.jsonObject
        for (key, value) in jsonObject {
            if CodingKeys(rawValue: key)?.rule.accumulates == true, case .array(let below)? = merged[key],
                case .array(let above) = value
            {
                merged[key] = .array(below + above.filter { !below.contains($0) })
            } else {
                merged[key] = value
            }
        }
        return (try? Self.decodeChecked(.object(merged))) ?? self
    }

    /// Relative paths made absolute against `directory` (the working directory for flags, the repository for
    /// files and requests).
    package func resolvingPaths(against directory: String) -> MissionFields {
        func absolute(_ path: String) -> String {
            URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true))
                .standardizedFileURL.path
        }
        var object = jsonObject
        for key in CodingKeys.allCases {
            guard let value = object[key.rawValue] else { continue }
            switch (key.rule.kind, value) {
            case (.string(_, isPath: true), .string(let path)): object[key.rawValue] = .string(absolute(path))
            case (.list(.path), .array(let items)):
                object[key.rawValue] = .array(items.map { $0.stringValue.map { .string(absolute($0)) } ?? $0 })
            case (.list(.keyFile), .array(let items)):
                object[key.rawValue] = .array(
                    items.map { item in
                        guard let text = item.stringValue, let equals = text.firstIndex(of: "=") else { return item }
                        return .string(text[..<equals] + "=" + absolute(String(text[text.index(after: equals)...])))
                    }
                )
            default: continue
            }
        }
        return (try? Self.decodeChecked(.object(object))) ?? self
    }

    /// Decodes an object whose fields were checked.
    private static func decodeChecked(_ value: JSONValue) throws(FlotillaError) -> MissionFields {
        do {
            return try JSONDecoder().decode(MissionFields.self, from: JSONEncoder().encode(value))
        } catch {
            throw FlotillaError(.internal, "mission fields that passed their checks did not decode: \(error)")
        }
    }
}
