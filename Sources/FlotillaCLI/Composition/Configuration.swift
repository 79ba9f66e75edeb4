import FlotillaAPI
import FlotillaCore
import Foundation

/// The configuration files that apply in a repository, merged: the project's `flotilla.toml` over the user's
/// `config.toml` (flags and the environment are applied over both by the commands).
struct Configuration: Sendable {
    /// `[run]` values, each with where it was set (`flotilla.toml:3`).
    var run: [String: (value: JSONValue, source: String)] = [:]
    var planner: [String: String] = [:]
    /// `[keys]` of the user's file, by variable, each with where it was set.
    var keys: [String: (value: String, source: String)] = [:]
    var pricing = PricingTable.builtIn
    /// The files that were read.
    var files: [String] = []

    /// The keys `[run]` accepts: the mission fields of the API, but those a file cannot sensibly fix.
    static let runKeys = Set(CreateMissionRequest.fields.map(\.name)).subtracting([
        "repository", "goal", "acceptance", "dry_run",
    ])

    /// `$XDG_CONFIG_HOME/flotilla/config.toml`, else `~/.config/flotilla/config.toml`.
    static func userFile(_ environment: [String: String]) -> String? {
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty { return config + "/flotilla/config.toml" }
        return environment["HOME"].map { $0 + "/.config/flotilla/config.toml" }
    }

    /// Reads the user's file and, inside a repository, the project's; a missing file is no error.
    static func load(root: String?, environment: [String: String]) throws -> Configuration {
        var merged = Configuration()
        let paths: [(String?, ConfigurationFile.Scope)] = [
            (userFile(environment), .user),
            (root.map { ($0 as NSString).appendingPathComponent("flotilla.toml") }, .project),
        ]
        for case (let path?, let scope) in paths {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let name = scope == .project ? "flotilla.toml" : path
            let file: ConfigurationFile
            do {
                file = try ConfigurationFile.parse(
                    String(decoding: data, as: UTF8.self),
                    file: name,
                    runKeys: runKeys,
                    scope: scope
                )
            } catch {
                throw InputError(error.description)
            }
            merged.files.append(path)
            for (key, entry) in file.run { merged.run[key] = (entry.value, "\(name):\(entry.line)") }
            for (key, entry) in file.planner { merged.planner[key] = entry.value.stringValue }
            for (variable, entry) in file.keys {
                merged.keys[variable] = (entry.value.stringValue ?? "", "\(name):\(entry.line)")
            }
            merged.pricing.prices.merge(file.prices) { $1 }
        }
        return merged
    }

    /// The API keys: the files `--key-file PROVIDER=PATH` names, else the environment's, else the user's file's.
    func apiKeys(environment: [String: String], keyFiles: [String] = []) throws -> APIKeys {
        var flags: [String: (value: String, source: String)] = [:]
        for entry in keyFiles {
            let (variable, path) = try Self.keyFile(entry)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw InputError("--key-file \(entry): cannot read \(path)")
            }
            let key = String(decoding: data, as: UTF8.self).trimmingWhitespace()
            guard !key.isEmpty else { throw InputError("--key-file \(entry): \(path) is empty") }
            flags[variable] = (key, "--key-file \(entry)")
        }
        return APIKeys(flags: flags, environment: environment, configured: keys)
    }

    /// The variable and path of a `--key-file PROVIDER=PATH` entry.
    static func keyFile(_ entry: String) throws -> (variable: String, path: String) {
        let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let variable = APIKeys.variable(forConfigKey: parts[0]), !parts[1].isEmpty else {
            let known = APIKeys.kinds.map(\.configKey).joined(separator: ", ")
            throw InputError("--key-file \(entry): expected PROVIDER=PATH with PROVIDER one of \(known)")
        }
        return (variable, parts[1])
    }

    /// Checks the `[run]` values as a mission request would (types, ranges, names); the first problem names the
    /// file and line of its value.
    func checkValues() throws {
        var fields = run.mapValues(\.value)
        // Whether a backend is chosen is a run's question, not the files'.
        if fields["backend"] == nil && fields["agent_command"] == nil {
            var fallbacks: [JSONValue] = []
            if case .array(let items)? = fields["fallback_backends"] { fallbacks = items }
            fields["backend"] = CreateMissionRequest.agentCLIs.map(JSONValue.string).first { !fallbacks.contains($0) }
        }
        guard let data = try? JSONEncoder().encode(JSONValue.object(fields)) else { return }
        do {
            _ = try CreateMissionRequest.decode(data)
        } catch {
            for problem in error.problems {
                let field = String(problem.field.prefix { $0 != "[" })
                if let source = run[field]?.source {
                    throw InputError("\(source): \(problem.field) \(problem.message)")
                }
            }
        }
    }
}
