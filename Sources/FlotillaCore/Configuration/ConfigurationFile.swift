/// One configuration file: the project's `flotilla.toml` or the user's `~/.config/flotilla/config.toml`.
///
/// `[run]` (or top-level keys) holds defaults for `flotilla run`, named as the API's mission fields
/// (`verify`, `agents`, `backend`, `max_cost_usd`…); `[planner]` holds `api`, `url`, `model`; `[pricing."MODEL"]`
/// holds `input`, `output`, `cache_read`, `cache_write` in dollars per million tokens.
package struct ConfigurationFile: Sendable, Equatable {
    package var file: String
    /// `[run]` keys with their values and lines.
    package var run: [String: TOMLDocument.Entry] = [:]
    package var planner: [String: TOMLDocument.Entry] = [:]
    package var prices: [String: ModelPrice] = [:]

    package static let plannerKeys: Set<String> = ["api", "url", "model"]

    /// Parses and checks the file's structure; `runKeys` are the keys `[run]` accepts.
    package static func parse(
        _ text: String,
        file: String,
        runKeys: Set<String>
    ) throws(ConfigurationError)
        -> ConfigurationFile
    {
        let document = try TOMLDocument.parse(text, file: file)
        var configuration = ConfigurationFile(file: file)
        for (table, entries) in document.tables.sorted(by: { $0.key < $1.key }) {
            let line = document.tableLines[table]
            switch table {
            case "", "run":
                for (key, entry) in entries {
                    guard runKeys.contains(key) else {
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            "unknown key \(key) (known: \(runKeys.sorted().joined(separator: ", ")))"
                        )
                    }
                    guard configuration.run[key] == nil else {
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            "\(key) is set both at the top and in [run]"
                        )
                    }
                    configuration.run[key] = entry
                }
            case "planner":
                for (key, entry) in entries {
                    guard plannerKeys.contains(key) else {
                        throw ConfigurationError(
                            file: file,
                            line: entry.line,
                            "unknown key planner.\(key) (known: api, url, model)"
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
            default:
                throw ConfigurationError(
                    file: file,
                    line: line,
                    "unknown table [\(table)] (known: run, planner, pricing.\"MODEL\")"
                )
            }
        }
        return configuration
    }
}
