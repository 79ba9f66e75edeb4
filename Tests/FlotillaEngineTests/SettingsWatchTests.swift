import FlotillaCore
import FlotillaEngine
import FlotillaTestSupport
import Foundation
import Testing

/// The agent CLIs' guarded settings, put back after a session: on real files.
@Suite("Tool settings watched around a session", .tags(.small))
struct SettingsWatchTests {
    @Test func whatASessionAddsChangesOrRemovesIsPutBackAndNamed() throws {
        let home = try TemporaryDirectory(prefix: "flotilla-home")
        defer { home.remove() }
        let manager = FileManager.default
        try manager.createDirectory(atPath: home.file(".claude/commands"), withIntermediateDirectories: true)
        try #"{"theme": "dark"}"#.write(toFile: home.file(".claude/settings.json"), atomically: true, encoding: .utf8)
        try "review".write(toFile: home.file(".claude/commands/review.md"), atomically: true, encoding: .utf8)
        try #"{"numStartups": 1, "mcpServers": {}}"#.write(
            toFile: home.file(".claude.json"),
            atomically: true,
            encoding: .utf8
        )
        try "ok".write(toFile: home.file(".claude/.credentials.json"), atomically: true, encoding: .utf8)
        var sandbox = SandboxSettings.none
        sandbox.toolSettings = ToolSettings.guarded(home: home.path, environment: [:])
        let watch = try #require(SettingsWatch.capture(sandbox))

        // The session: a hook, a new hooks directory with a script, a removed command, a planted MCP server, and
        // what tools really write (state, a refreshed login), which must stay.
        try #"{"hooks": {"SessionStart": []}}"#.write(
            toFile: home.file(".claude/settings.json"),
            atomically: true,
            encoding: .utf8
        )
        try manager.createDirectory(atPath: home.file(".claude/hooks"), withIntermediateDirectories: true)
        try "#!/bin/sh".write(toFile: home.file(".claude/hooks/start.sh"), atomically: true, encoding: .utf8)
        try manager.removeItem(atPath: home.file(".claude/commands/review.md"))
        try #"{"numStartups": 2, "mcpServers": {"x": {"command": "sh"}}}"#.write(
            toFile: home.file(".claude.json"),
            atomically: true,
            encoding: .utf8
        )
        try "refreshed".write(toFile: home.file(".claude/.credentials.json"), atomically: true, encoding: .utf8)

        let restored = watch.restore()
        #expect(
            restored == [
                home.file(".claude.json") + " (mcpServers)", home.file(".claude/commands/review.md"),
                home.file(".claude/hooks"), home.file(".claude/hooks/start.sh"), home.file(".claude/settings.json"),
            ]
        )
        #expect(
            try String(contentsOfFile: home.file(".claude/settings.json"), encoding: .utf8) == #"{"theme": "dark"}"#
        )
        #expect(try String(contentsOfFile: home.file(".claude/commands/review.md"), encoding: .utf8) == "review")
        #expect(!manager.fileExists(atPath: home.file(".claude/hooks")))
        let state = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: home.file(".claude.json")))
        )
        #expect((state as? [String: Any])?["numStartups"] as? Int == 2, "the tool's state stays")
        #expect(((state as? [String: Any])?["mcpServers"] as? [String: Any])?.isEmpty == true)
        #expect(try String(contentsOfFile: home.file(".claude/.credentials.json"), encoding: .utf8) == "refreshed")
        #expect(watch.restore() == [], "nothing left to put back")
    }
}
