import FlotillaCore
import Foundation

/// A model role's own settings directory for its CLI: the user's login copied in, nothing else of theirs.
///
/// claude reads `CLAUDE_CONFIG_DIR` (its `.credentials.json` and `.claude.json`), codex `CODEX_HOME` (`auth.json`,
/// and `config.toml` for its model providers). Hooks, MCP servers, plugins and instructions in the user's settings,
/// which an agent may have planted, are not copied; the directory goes when the session ends.
package struct PrivateToolHome {
    let path: String
    let environment: [String: String]

    /// What is copied from the user's settings directory, per tool.
    static func logins(_ tool: CLILanguageModel.Tool) -> [String] {
        switch tool {
        case .claude: [".credentials.json"]
        case .codex: ["auth.json", "config.toml"]
        }
    }

    init(_ tool: CLILanguageModel.Tool, environment: [String: String]) throws {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let (variable, source) =
            switch tool {
            case .claude: ("CLAUDE_CONFIG_DIR", environment["CLAUDE_CONFIG_DIR"] ?? home + "/.claude")
            case .codex: ("CODEX_HOME", environment["CODEX_HOME"] ?? home + "/.codex")
            }
        path = NSTemporaryDirectory() + "flotilla-role-\(tool.rawValue)-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(
            atPath: path,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        for name in Self.logins(tool) {
            guard let data = FileManager.default.regularFileContents(atPath: source + "/" + name, limit: 8 << 20)
            else { continue }
            let contents =
                name == "config.toml" ? Data(Self.withoutCommands(String(decoding: data, as: UTF8.self)).utf8) : data
            _ = FileManager.default.createFile(
                atPath: path + "/" + name,
                contents: contents,
                attributes: [.posixPermissions: 0o600]
            )
        }
        if tool == .claude {
            // claude's account state, without the MCP servers it lists (`--strict-mcp-config` ignores them too).
            let state = home + "/.claude.json"
            if let data = FileManager.default.regularFileContents(atPath: state, limit: 8 << 20),
                var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            {
                object["mcpServers"] = nil
                object["projects"] = nil
                if let copy = try? JSONSerialization.data(withJSONObject: object) {
                    _ = FileManager.default.createFile(
                        atPath: path + "/.claude.json",
                        contents: copy,
                        attributes: [.posixPermissions: 0o600]
                    )
                }
            }
        }
        self.environment = [variable: path]
    }

    /// A codex `config.toml` without what runs a program: `notify`, and the `[mcp_servers…]` tables.
    package static func withoutCommands(_ text: String) -> String {
        var kept: [Substring] = []
        var skipping = false
        var inArray = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if inArray {
                // The rest of a dropped `notify = [` array written over several lines.
                if trimmed.contains("]") { inArray = false }
                continue
            }
            if trimmed.hasPrefix("[") {
                skipping = trimmed.hasPrefix("[mcp_servers") || trimmed.hasPrefix("[[mcp_servers")
            }
            if skipping { continue }
            let key = trimmed.split(separator: "=", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces)
            if key == "notify" || key?.hasPrefix("mcp_servers") == true {
                inArray = trimmed.contains("[") && !trimmed.contains("]")
                continue
            }
            kept.append(line)
        }
        return kept.joined(separator: "\n")
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
