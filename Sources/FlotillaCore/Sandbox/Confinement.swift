import Foundation

/// How agent sessions and verify runs are confined (`--sandbox`).
package enum SandboxMode: String, Sendable, Codable, CaseIterable {
    /// bubblewrap where it works, else none, said once when the mission starts.
    case auto
    /// bubblewrap, or the mission does not start.
    case bwrap
    /// No sandbox: processes run as the user, ended with their process group and every orphan they leave.
    case none
}

/// What a confined process may reach on the network (`--network`, `--verify-network`).
package enum NetworkAccess: String, Sendable, Codable, CaseIterable {
    /// The machine's network, loopback included.
    case open
    /// Only the listed hosts, through a proxy Flotilla runs outside the sandbox.
    case allowlist
    /// Nothing but the sandbox's own loopback.
    case none
}

/// What one confined process may see and reach; the runner turns it into its mechanism's terms (bubblewrap).
///
/// The system is readable and nothing is writable but ``writable``; the home directory is an empty one of the
/// process's own, but for ``homeShares``; `/tmp` is private; ``hidden`` directories (the repository's `.flotilla/`)
/// are not there at all; and every process it starts dies with it.
package struct Confinement: Sendable, Equatable {
    /// The mechanism, already resolved: `.bwrap` or `.none` (never `.auto`).
    package var mode: SandboxMode
    /// Directories the process may write: its checkout, and what the user added.
    package var writable: [String]
    /// Files inside the writable directories that stay read-only: the gate's own files while it runs, so that the
    /// code it runs cannot rewrite them under it.
    package var fixed: [String]
    /// Paths it may read that would otherwise be hidden (under the home directory, `/tmp`, `.flotilla/`): the
    /// prompt file, the repository itself, the tool's executable, what the user added.
    package var readable: [String]
    /// Directories it does not see at all.
    package var hidden: [String]
    /// Files it reads as empty wherever they are: the key files Flotilla reads keys from.
    package var masked: [String] = []
    /// Paths of the real home directory the process shares, read and write: the tool's own login and settings.
    package var homeShares: [String]
    package var network: NetworkAccess
    /// For ``NetworkAccess/allowlist``: `host`, `host:port` or `*.domain` (any port 80 or 443 when none is given).
    package var allowedHosts: [String]

    package init(
        mode: SandboxMode,
        writable: [String] = [],
        readable: [String] = [],
        hidden: [String] = [],
        homeShares: [String] = [],
        network: NetworkAccess = .none,
        allowedHosts: [String] = [],
        fixed: [String] = []
    ) {
        self.mode = mode
        self.writable = writable
        self.fixed = fixed
        self.readable = readable
        self.hidden = hidden
        self.homeShares = homeShares
        self.network = network
        self.allowedHosts = allowedHosts
    }

    /// A short form for the ledger and logs: `bwrap, network allowlist (api.anthropic.com)`.
    package var summary: String {
        guard mode != .none else { return "none" }
        var text = "\(mode.rawValue), network \(network.rawValue)"
        if network == .allowlist {
            text += " (\(allowedHosts.isEmpty ? "no hosts" : allowedHosts.joined(separator: ", ")))"
        }
        return text
    }
}

/// Hosts an agent CLI needs, for the `allowlist` network policy.
package enum AgentHosts {
    /// The API hosts of a model's provider, judged by its name (`claude-…`, `gpt-…`, `gemini-…`, `provider/model`).
    package static func forModel(_ model: String?) -> [String] {
        guard let model = model?.lowercased() else { return [] }
        let provider = model.split(separator: "/").first.map(String.init) ?? model
        switch provider {
        case _ where provider.hasPrefix("anthropic") || model.contains("claude"): return ["api.anthropic.com"]
        case _
        where provider.hasPrefix("openai") || model.hasPrefix("gpt") || model.hasPrefix("o1")
            || model.hasPrefix("o3") || model.hasPrefix("o4") || model.contains("codex"):
            return ["api.openai.com"]
        case _ where provider.hasPrefix("gemini") || provider.hasPrefix("google") || model.contains("gemini"):
            return ["generativelanguage.googleapis.com"]
        case _ where provider.hasPrefix("openrouter"): return ["openrouter.ai"]
        case _ where provider.hasPrefix("deepseek"): return ["api.deepseek.com"]
        case _ where provider.hasPrefix("mistral"): return ["api.mistral.ai"]
        case _ where provider.hasPrefix("groq"): return ["api.groq.com"]
        default: return []
        }
    }

    /// `host:port` of an API root URL (`http://127.0.0.1:8080/v1` → `127.0.0.1:8080`), for `--agent-base-url`.
    package static func forURL(_ url: String?) -> [String] {
        guard let url, let schemeEnd = url.range(of: "://") else { return [] }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let hostPort = authority.split(separator: "@").last.map(String.init) ?? ""
        guard !hostPort.isEmpty else { return [] }
        if hostPort.hasPrefix("[") || hostPort.contains(":") { return [hostPort] }
        return [hostPort + (url.hasPrefix("https") ? ":443" : ":80")]
    }
}
