/// The parts of the agent CLIs' own settings that make a tool run something or tell it what to do: hooks, MCP servers,
/// commands, plugins, instructions.
///
/// A session shares its tool's settings directory (its login lives there), so an agent could plant a hook there that
/// the next session, or a model role run without a sandbox, would run as the user. These are watched around every
/// agent session and put back as they were (`attempt.tool_settings_restored`). Logins, caches and session logs are not
/// listed: tools rewrite them on every run.
package struct ToolSettings: Sendable, Equatable {
    /// A file of which only some top-level keys are guarded, the rest being state the tool rewrites on every run.
    package struct KeyedFile: Sendable, Equatable {
        package var path: String
        package var keys: [String]
    }

    /// Guarded files and directories (directories count with everything under them).
    package var paths: [String]
    package var keyed: [KeyedFile]

    package init(paths: [String] = [], keyed: [KeyedFile] = []) {
        self.paths = paths
        self.keyed = keyed
    }

    /// Nothing guarded.
    package static let none = ToolSettings()

    /// What is guarded under `home`.
    package static func guarded(home: String, environment: [String: String]) -> ToolSettings {
        let claude = environment["CLAUDE_CONFIG_DIR"] ?? home + "/.claude"
        let codex = environment["CODEX_HOME"] ?? home + "/.codex"
        let mini = environment["MSWEA_GLOBAL_CONFIG_DIR"] ?? home + "/.config/mini-swe-agent"
        let paths = [
            // Claude Code: settings (hooks, permissions, apiKeyHelper, statusLine), its memory, and what it loads.
            claude + "/settings.json", claude + "/settings.local.json", claude + "/CLAUDE.md", claude + "/hooks",
            claude + "/commands", claude + "/agents", claude + "/plugins", claude + "/skills",
            // Codex: its configuration (MCP servers, `notify`, profiles) and instructions.
            codex + "/config.toml", codex + "/AGENTS.md", codex + "/prompts",
            // Gemini CLI.
            home + "/.gemini/settings.json", home + "/.gemini/GEMINI.md", home + "/.gemini/commands",
            home + "/.gemini/extensions",
            // OpenCode: its whole configuration directory (plugins are JavaScript it runs).
            home + "/.config/opencode",
            // Cursor's agent.
            home + "/.cursor/mcp.json", home + "/.cursor/cli-config.json", home + "/.cursor/rules",
            // aider and mini-swe-agent: their configuration files.
            home + "/.aider.conf.yml", home + "/.aider.model.settings.yml", mini + "/.env",
        ]
        // Claude Code's state file: its MCP servers only; it rewrites the rest on every start.
        return ToolSettings(paths: paths, keyed: [KeyedFile(path: home + "/.claude.json", keys: ["mcpServers"])])
    }
}
