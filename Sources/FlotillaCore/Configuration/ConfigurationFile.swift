/// One configuration file: the project's `flotilla.toml` or the user's `~/.config/flotilla/config.toml`.
///
/// `[run]` (or top-level keys) holds defaults for `flotilla run`, named as the API's mission fields
/// (`verify`, `agents`, `backend`, `max_cost_usd`…). The role tables say the same by role: `[agent]` (`backend`,
/// `model`, `binary`, `command`, `base_url`, `max_turns`, `fallback`) and `[critic]` (`api`, `url`, `model`) are
/// mission fields too, `[planner]` holds `api`, `url`, `model`. `[keys]` (the user's file only) holds API keys
/// by provider. `[pricing."MODEL"]` holds `input`, `output`, `cache_read`, `cache_write` in dollars per million
/// tokens. `[notify.NAME]` holds a notification target (`kind`, `url`, `secret_env`, `events`, `timeout`, `attempts`,
/// `backoff`). `[pipeline.NAME]` and `[pipeline.NAME.STEP]` define a pipeline (``Pipeline``). `[limits]` holds
/// `daily_cost_usd`, what the missions of a repository may spend in 24 hours together. `[schedule.NAME]` holds a
/// schedule (``Schedule``): `cron` or `every`, `tz`, `overlap`, `catch_up`, `enabled` and the mission's fields.
package struct ConfigurationFile: Sendable, Equatable {
    package var file: String
    /// Mission fields (`[run]`, top-level, `[agent]`, `[critic]`) with their values and lines.
    package var run: [String: TOMLDocument.Entry] = [:]
    package var planner: [String: TOMLDocument.Entry] = [:]
    /// API keys by the variable they stand for (`ANTHROPIC_API_KEY`).
    package var keys: [String: TOMLDocument.Entry] = [:]
    package var prices: [String: ModelPrice] = [:]
    /// `[notify.NAME]` tables: where notifications go, by name.
    package var notify: [String: NotificationTarget] = [:]
    /// `[notify] grace`: how long a finished run keeps delivering notifications before its process exits.
    package var notifyGrace: Duration?
    /// `[pipeline.NAME]` tables, checked, by name.
    package var pipelines: [String: Pipeline] = [:]
    /// `[limits] daily_cost_usd`.
    package var dailyCostUSD: Double?
    /// `[schedule.NAME]` tables, checked, by name.
    package var schedules: [String: Schedule] = [:]

    package static let plannerKeys: Set<String> = ["api", "url", "model", "binary"]

    /// The mission field each key of a role table sets.
    package static let roleFields: [String: [String: String]] = [
        "agent": [
            "backend": "backend", "model": "model", "binary": "agent_binary", "command": "agent_command",
            "base_url": "agent_base_url", "max_turns": "max_turns", "fallback": "fallback_backends",
            "args": "agent_args", "max_output_tokens": "max_output_tokens",
        ],
        "critic": ["api": "critic", "url": "critic_url", "model": "critic_model", "binary": "critic_binary"],
    ]

    /// Where a file sits, which decides what it may hold.
    package enum Scope: Sendable {
        /// The repository's `flotilla.toml`: committed, so it may not hold keys.
        case project
        /// The user's `config.toml`.
        case user
    }

    /// The keys `[run]` accepts: the mission fields a file may set.
    package static let runKeys = Set(MissionFields.settingKeys.map(\.rawValue))

    /// Parses and checks the file's structure; `runKeys` are the keys `[run]` accepts.
    package static func parse(
        _ text: String,
        file: String,
        runKeys: Set<String> = runKeys,
        scope: Scope = .user
    ) throws(ConfigurationError)
        -> ConfigurationFile
    {
        let document = try TOMLDocument.parse(text, file: file)
        var configuration = ConfigurationFile(file: file)
        for (table, entries) in document.tables.sorted(by: { $0.key < $1.key }) {
            let line = document.tableLines[table]
            switch table {
            case "", "run", "agent", "critic":
                // [agent] and [critic] name run keys by shorter names (`model` for `critic_model`).
                let aliases = roleFields[table]
                let known = aliases.map { Array($0.keys) } ?? Array(runKeys)
                for (key, entry) in entries {
                    let name = aliases == nil ? key : "\(table).\(key)"
                    guard let field = aliases == nil ? key : aliases?[key], runKeys.contains(field) else {
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            "unknown key \(name) (known: \(known.sorted().joined(separator: ", ")))"
                        )
                    }
                    if let earlier = configuration.run[field] {
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            (field == name ? "\(name) is" : "\(name) sets \(field),")
                                + " already set on line \(earlier.line)"
                        )
                    }
                    configuration.run[field] = entry
                }
            case "keys":
                if scope == .project, let first = entries.values.map(\.line).min() {
                    throw ConfigurationError(
                        file: file,
                        line: first,
                        "API keys do not belong in the project's file, which is committed; put them in the user's "
                            + "config.toml or the environment"
                    )
                }
                for (key, entry) in entries {
                    guard let variable = APIKeys.variable(forConfigKey: key) else {
                        let known = APIKeys.kinds.map(\.configKey).joined(separator: ", ")
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            "unknown key keys.\(key) (known: \(known))"
                        )
                    }
                    guard let value = entry.value.stringValue, !value.isEmpty else {
                        throw ConfigurationError(file: file, line: entry.line, "keys.\(key) must be a non-empty string")
                    }
                    configuration.keys[variable] = entry
                }
            case "planner":
                for (key, entry) in entries {
                    guard plannerKeys.contains(key) else {
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            "unknown key planner.\(key) (known: api, binary, model, url)"
                        )
                    }
                    guard entry.value.stringValue != nil else {
                        throw ConfigurationError(file: file, line: entry.line, "planner.\(key) must be a string")
                    }
                    configuration.planner[key] = entry
                }
            case "pricing":
                if !entries.isEmpty {
                    throw ConfigurationError(file: file, line: line, "prices go in [pricing.\"MODEL\"] tables")
                }
            case let pricing where pricing.hasPrefix("pricing."):
                let model = String(pricing.dropFirst("pricing.".count))
                var values: [String: Double] = [:]
                for (key, entry) in entries {
                    guard ["input", "output", "cache_read", "cache_write"].contains(key) else {
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            "unknown key \(key) in [\(pricing)] (known: input, output, cache_read, cache_write)"
                        )
                    }
                    guard let number = entry.value.numberValue, number >= 0 else {
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            "\(pricing).\(key) must be a number of dollars ≥ 0"
                        )
                    }
                    values[key] = number
                }
                guard let input = values["input"], let output = values["output"] else {
                    throw ConfigurationError(file: file, line: line, "[\(pricing)] needs input and output")
                }
                configuration.prices[model.lowercased()] = ModelPrice(
                    input: input,
                    output: output,
                    cacheRead: values["cache_read"] ?? 0,
                    cacheWrite: values["cache_write"] ?? 0
                )
            case "notify":
                for (key, entry) in entries {
                    guard key == "grace" else {
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            "unknown key notify.\(key) (known: grace; targets go in [notify.NAME] tables)"
                        )
                    }
                    guard let seconds = entry.value.numberValue, (0...600).contains(seconds) else {
                        throw ConfigurationError(file: file, line: entry.line, "notify.grace must be 0 to 600 seconds")
                    }
                    configuration.notifyGrace = .seconds(bounded: seconds)
                }
            case "limits":
                for (key, entry) in entries {
                    guard key == "daily_cost_usd" else {
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            "unknown key limits.\(key) (known: daily_cost_usd)"
                        )
                    }
                    guard let dollars = entry.value.numberValue, dollars.isFinite, dollars >= 0 else {
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            "limits.daily_cost_usd must be a number of dollars, 0 or more"
                        )
                    }
                    configuration.dailyCostUSD = dollars
                }
            case let name where name == "pipeline" || name.hasPrefix("pipeline."):
                continue  // read whole below: a pipeline's steps are tables of their own
            case let schedule where schedule.hasPrefix("schedule."):
                // A schedule starts missions in one repository: its own flotilla.toml says so, not the user's file.
                guard scope == .project else {
                    throw ConfigurationError(
                        file: file,
                        line: line,
                        "[\(table)] belongs in the repository's flotilla.toml, not in \(file)"
                    )
                }
                let name = String(schedule.dropFirst("schedule.".count))
                configuration.schedules[name] = try Schedule.parse(name: name, entries: entries, file: file, line: line)
            case let notify where notify.hasPrefix("notify."):
                let name = String(notify.dropFirst("notify.".count))
                configuration.notify[name] = try NotificationTarget.parse(
                    name: name,
                    entries: entries,
                    file: file,
                    line: line
                )
            default:
                throw ConfigurationError(
                    file: file,
                    line: line,
                    "unknown table [\(table)] (known: run, agent, planner, critic, keys, pricing.\"MODEL\", notify.NAME, "
                        + "pipeline.NAME, schedule.NAME, limits)"
                )
            }
        }
        for (name, tables) in try Pipeline.tables(of: document, file: file).sorted(by: { $0.key < $1.key }) {
            configuration.pipelines[name] = try Pipeline.parse(name: name, tables, file: file)
        }
        return configuration
    }
}
