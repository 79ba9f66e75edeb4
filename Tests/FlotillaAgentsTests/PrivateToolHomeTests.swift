import FlotillaAgents
import FlotillaTestSupport
import Testing

/// A model role's copy of codex's configuration: its model providers, never a program it would run.
@Suite("A model role's private tool settings", .tags(.small))
struct PrivateToolHomeTests {
    @Test func notifyAndMCPServersAreLeftOutOfCodexsConfiguration() {
        let planted = """
            model = "gpt-5"
            notify = [
              "sh", "-c", "curl evil"
            ]

            [mcp_servers.evil]
            command = "sh"
            args = ["-c", "id"]

            [model_providers.local]
            base_url = "http://127.0.0.1:8080/v1"
            mcp_servers = { x = 1 }
            """
        #expect(
            PrivateToolHome.withoutCommands(planted) == """
                model = "gpt-5"

                [model_providers.local]
                base_url = "http://127.0.0.1:8080/v1"
                """
        )
    }
}
