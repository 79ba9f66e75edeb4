/// The API keys Flotilla can hand to agents and use for its own LLM calls, and where each was found.
///
/// Lookup order: a flag (`--key-file PROVIDER=PATH`), the environment, then the `[keys]` table of the user's
/// `config.toml`. Keys are kept by the
/// variable the tools read (`ANTHROPIC_API_KEY`…), so handing one to a process is a matter of naming it.
package struct APIKeys: Sendable, Equatable {
    /// A key Flotilla knows: the variable tools read, its name in `[keys]`, and who uses it.
    package struct Kind: Sendable, Equatable {
        package var variable: String
        package var configKey: String
        package var usedBy: String
    }

    package static let kinds: [Kind] = [
        Kind(
            variable: "ANTHROPIC_API_KEY",
            configKey: "anthropic",
            usedBy: "claude, opencode, aider, mini; anthropic LLM roles"
        ),
        Kind(variable: "CLAUDE_CODE_OAUTH_TOKEN", configKey: "claude_oauth_token", usedBy: "claude"),
        Kind(variable: "OPENAI_API_KEY", configKey: "openai", usedBy: "codex, opencode, aider, mini; openai LLM roles"),
        Kind(variable: "CODEX_API_KEY", configKey: "codex", usedBy: "codex"),
        Kind(variable: "GEMINI_API_KEY", configKey: "gemini", usedBy: "gemini, opencode, aider, mini"),
        Kind(variable: "GOOGLE_API_KEY", configKey: "google", usedBy: "gemini"),
        Kind(variable: "CURSOR_API_KEY", configKey: "cursor", usedBy: "cursor"),
    ]

    /// Where a key was found.
    package enum Source: Sendable, Equatable, CustomStringConvertible {
        /// The flag that named it (`--key-file anthropic=/run/secrets/anthropic`).
        case flag(String)
        case environment
        /// A configuration file and line (`config.toml:7`).
        case file(String)

        package var description: String {
            switch self {
            case .flag(let flag): flag
            case .environment: "environment"
            case .file(let place): place
            }
        }
    }

    private var found: [String: (value: String, source: Source)]

    /// Keys from flags, else the environment, else the configuration (`flags` and `configured` by variable name,
    /// each with its place).
    package init(
        flags: [String: (value: String, source: String)] = [:],
        environment: [String: String],
        configured: [String: (value: String, source: String)] = [:]
    ) {
        found = [:]
        for kind in Self.kinds {
            if let entry = flags[kind.variable], !entry.value.isEmpty {
                found[kind.variable] = (entry.value, .flag(entry.source))
            } else if let value = environment[kind.variable], !value.isEmpty {
                found[kind.variable] = (value, .environment)
            } else if let entry = configured[kind.variable], !entry.value.isEmpty {
                found[kind.variable] = (entry.value, .file(entry.source))
            }
        }
    }

    package static func == (lhs: APIKeys, rhs: APIKeys) -> Bool {
        lhs.found.mapValues(\.value) == rhs.found.mapValues(\.value)
    }

    package func value(_ variable: String) -> String? { found[variable]?.value }

    package func source(_ variable: String) -> Source? { found[variable]?.source }

    /// The keys among `variables` that were found, by variable: what one process is given.
    package func environment(for variables: some Sequence<String>) -> [String: String] {
        var result: [String: String] = [:]
        for variable in variables { result[variable] = found[variable]?.value }
        return result
    }

    /// The variable a `[keys]` entry sets.
    package static func variable(forConfigKey key: String) -> String? {
        kinds.first { $0.configKey == key }?.variable
    }
}

/// The provider a model name belongs to, for tools that serve many (aider, mini-swe-agent, opencode).
package enum ModelProvider: Sendable, CaseIterable {
    case anthropic, openai, google

    /// The provider a model name says (`anthropic/claude-…`, `gpt-5`, `gemini/gemini-2.5-pro`…); nil when unclear.
    package init?(model: String) {
        let name = model.lowercased()
        let bare = name.split(separator: "/").last.map(String.init) ?? name
        if name.hasPrefix("anthropic/") || bare.hasPrefix("claude") {
            self = .anthropic
        } else if name.hasPrefix("openai/") || ["gpt", "o1", "o3", "o4", "codex"].contains(where: bare.hasPrefix) {
            self = .openai
        } else if name.hasPrefix("gemini/") || name.hasPrefix("google/") || bare.hasPrefix("gemini") {
            self = .google
        } else {
            return nil
        }
    }

    /// The variables this provider's key is read from.
    package var keyVariables: [String] {
        switch self {
        case .anthropic: ["ANTHROPIC_API_KEY"]
        case .openai: ["OPENAI_API_KEY"]
        case .google: ["GEMINI_API_KEY", "GOOGLE_API_KEY"]
        }
    }

    /// The key variables a multi-provider tool needs for `model`.
    ///
    /// Its provider's, or every provider's when the name does not say (the tool then picks by the keys it finds).
    /// An OpenAI-compatible `baseURL` means OpenAI's.
    package static func keyVariables(model: String?, baseURL: String?) -> [String] {
        if baseURL != nil { return ["OPENAI_API_KEY"] }
        if let model, let provider = ModelProvider(model: model) { return provider.keyVariables }
        return allCases.flatMap(\.keyVariables)
    }
}
