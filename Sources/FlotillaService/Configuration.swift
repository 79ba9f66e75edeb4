import FlotillaCore
import Foundation

/// The configuration files that apply in a repository, merged: the project's `flotilla.toml` over the user's
/// `config.toml` (the environment and flags, or a request, are layered over both).
package struct Configuration: Sendable {
    /// The mission fields of `[run]`, `[agent]` and `[critic]`, checked, the project's over the user's.
    package var fields = MissionFields()
    /// Where each field was set (`flotilla.toml:3`).
    package var sources: [String: String] = [:]
    package var planner: [String: String] = [:]
    /// `[keys]` of the user's file, by variable, each with where it was set.
    package var keys: [String: (value: String, source: String)] = [:]
    package var pricing = PricingTable.builtIn
    /// Notification targets by name (`[notify.NAME]`), the project's over the user's.
    package var notify: [String: NotificationTarget] = [:]
    /// How long a finished run keeps delivering notifications (`[notify] grace`, default 10 s).
    package var notifyGrace: Duration = .seconds(10)
    /// Pipelines by name (`[pipeline.NAME]`), the project's over the user's.
    package var pipelines: [String: Pipeline] = [:]
    /// Schedules by name (`[schedule.NAME]`), the project's over the user's.
    package var schedules: [String: Schedule] = [:]
    /// `[limits] daily_cost_usd`: the lower of the user's and the project's, since either may want to be safe.
    package var dailyCostUSD: Double?
    /// The files that were read.
    package var files: [String] = []

    /// `$XDG_CONFIG_HOME/flotilla/config.toml`, else `~/.config/flotilla/config.toml`.
    package static func userFile(_ environment: [String: String]) -> String? {
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty { return config + "/flotilla/config.toml" }
        return environment["HOME"].map { $0 + "/.config/flotilla/config.toml" }
    }

    /// Reads the user's file and, inside a repository, the project's; a missing file is no error, a bad value is
    /// one that names its file and line.
    package static func load(root: String?, environment: [String: String]) throws -> Configuration {
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
                file = try ConfigurationFile.parse(String(decoding: data, as: UTF8.self), file: name, scope: scope)
            } catch {
                throw FlotillaError.invalid(error.description)
            }
            merged.files.append(path)
            let sources = file.run.mapValues { "\(name):\($0.line)" }
            let fields = try MissionFields.decode(file.run.mapValues(\.value), from: .settings) { field in
                "\(sources[String(field.prefix { $0 != "[" })] ?? name): \(field)"
            }
            merged.fields = fields.layered(over: merged.fields)
            merged.sources.merge(sources) { $1 }
            for (key, entry) in file.planner { merged.planner[key] = entry.value.stringValue }
            for (variable, entry) in file.keys {
                merged.keys[variable] = (entry.value.stringValue ?? "", "\(name):\(entry.line)")
            }
            merged.pricing.prices.merge(file.prices) { $1 }
            merged.notify.merge(file.notify) { $1 }
            merged.pipelines.merge(file.pipelines) { $1 }
            merged.schedules.merge(file.schedules) { $1 }
            if let grace = file.notifyGrace { merged.notifyGrace = grace }
            if let daily = file.dailyCostUSD { merged.dailyCostUSD = min(merged.dailyCostUSD ?? daily, daily) }
        }
        return merged
    }

    /// The API keys: the files `--key-file PROVIDER=PATH` names, else the environment's, else the user's file's.
    package func apiKeys(environment: [String: String], keyFiles: [String] = []) throws -> APIKeys {
        var flags: [String: (value: String, source: String)] = [:]
        for entry in keyFiles {
            let (variable, path) = try Self.keyFile(entry)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw FlotillaError.invalid("--key-file \(entry): cannot read \(path)")
            }
            let key = String(decoding: data, as: UTF8.self).trimmingWhitespace()
            guard !key.isEmpty else { throw FlotillaError.invalid("--key-file \(entry): \(path) is empty") }
            flags[variable] = (key, "--key-file \(entry)")
        }
        let found = APIKeys(flags: flags, environment: environment, configured: keys)
        // Whichever process prints one of them, a transcript or log never keeps it.
        SecretRedaction.hold(APIKeys.kinds.compactMap { found.value($0.variable) })
        return found
    }

    /// The variable and path of a `--key-file PROVIDER=PATH` entry.
    package static func keyFile(_ entry: String) throws -> (variable: String, path: String) {
        let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let variable = APIKeys.variable(forConfigKey: parts[0]), !parts[1].isEmpty else {
            let known = APIKeys.kinds.map(\.configKey).joined(separator: ", ")
            throw FlotillaError.invalid("--key-file \(entry): expected PROVIDER=PATH with PROVIDER one of \(known)")
        }
        return (variable, parts[1])
    }
}
