import FlotillaCore
import FlotillaTestSupport
import Testing

@Suite("Configuration files: the TOML subset and its checks", .tags(.small))
struct ConfigurationTests {
    @Test func tablesValuesArraysAndComments() throws {
        let text = """
            # Flotilla settings
            verify = "./verify.sh"   # the gate
            protect = [
              "tests/**",  # never touched
              'fixtures/*.json',
            ]

            [run]
            agents = 3
            max_cost_usd = 2.5
            keep = true

            [pricing."my-model"]
            input = 1_000
            """
        let document = try TOMLDocument.parse(text, file: "flotilla.toml")
        #expect(document.tables[""]?["verify"] == TOMLDocument.Entry(value: "./verify.sh", line: 2))
        #expect(document.tables[""]?["protect"]?.value == .array(["tests/**", "fixtures/*.json"]))
        #expect(document.tables["run"]?["agents"] == TOMLDocument.Entry(value: 3, line: 9))
        #expect(document.tables["run"]?["max_cost_usd"]?.value == 2.5)
        #expect(document.tables["run"]?["keep"]?.value == true)
        #expect(document.tables["pricing.my-model"]?["input"]?.value == 1000)
        #expect(document.tableLines["run"] == 8)
    }

    @Test(arguments: [
        ("agents = three", "f.toml:1: `three` is not a value (strings need quotes)"),
        ("a = 1\na = 2", "f.toml:2: a is set twice"),
        ("[run]\n[run]", "f.toml:2: table [run] appears twice"),
        ("name = \"open", "f.toml:1: unterminated string"),
        ("just words", "f.toml:1: expected `key = value`"),
        ("[[runs]]", "f.toml:1: a table header is `[name]` (arrays of tables are not supported)"),
    ])
    func badSyntaxNamesTheLine(_ text: String, _ message: String) {
        #expect(throws: ConfigurationError.self) { try TOMLDocument.parse(text, file: "f.toml") }
        do {
            _ = try TOMLDocument.parse(text, file: "f.toml")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func unknownKeysAndTablesAreErrorsWithTheirLine() throws {
        let keys: Set<String> = ["verify", "agents"]
        func message(_ text: String) -> String? {
            do {
                _ = try ConfigurationFile.parse(text, file: "flotilla.toml", runKeys: keys)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(
            message("verify = 'x'\ncolour = 'red'")?.hasPrefix(
                "flotilla.toml:2: unknown key colour (known: agents, verify)"
            ) == true
        )
        #expect(
            message("[agents]\nx = 1")
                == "flotilla.toml:1: unknown table [agents] (known: run, agent, planner, critic, keys, pricing.\"MODEL\")"
        )
        #expect(message("verify = 'a'\n[run]\nverify = 'b'") == "flotilla.toml:3: verify is already set on line 1")
        #expect(message("[pricing.\"m\"]\ninput = 1") == "flotilla.toml:1: [pricing.m] needs input and output")
        let file = try ConfigurationFile.parse(
            "[planner]\nurl = 'http://x'\n[pricing.\"Stub-Model\"]\ninput = 2\noutput = 4\ncache_read = 0.5",
            file: "config.toml",
            runKeys: keys
        )
        #expect(file.planner["url"]?.value == "http://x")
        #expect(file.prices["stub-model"] == ModelPrice(input: 2, output: 4, cacheRead: 0.5, cacheWrite: 0))
    }
}

@Suite("Role tables and keys in configuration files")
struct RoleTableTests {
    let keys = Set(["backend", "model", "agent_binary", "fallback_backends", "critic", "critic_url", "critic_model"])

    @Test func roleTablesSetMissionFieldsAndKeysAreReadByProvider() throws {
        let file = try ConfigurationFile.parse(
            """
            [agent]
            backend = "claude"
            fallback = ["codex"]
            [critic]
            api = "openai"
            [keys]
            openai = "sk-123456789"
            """,
            file: "config.toml",
            runKeys: keys
        )
        #expect(file.run["backend"]?.value == .string("claude"))
        #expect(file.run["fallback_backends"]?.value == .array([.string("codex")]))
        #expect(file.run["critic"]?.line == 5)
        #expect(file.keys["OPENAI_API_KEY"]?.value == .string("sk-123456789"))
        let apiKeys = APIKeys(
            environment: ["OPENAI_API_KEY": "from-env-1234"],
            configured: ["OPENAI_API_KEY": ("sk-123456789", "config.toml:7")]
        )
        #expect(apiKeys.value("OPENAI_API_KEY") == "from-env-1234")
        #expect(apiKeys.source("OPENAI_API_KEY") == .environment)
        #expect(
            APIKeys(environment: [:], configured: ["OPENAI_API_KEY": ("k", "c:7")]).source("OPENAI_API_KEY")
                == .file("c:7")
        )
    }

    @Test func aFieldSetTwiceUnknownRoleKeysAndBadKeysAreErrorsWithTheirLine() {
        func message(_ text: String, scope: ConfigurationFile.Scope = .user) -> String? {
            do {
                _ = try ConfigurationFile.parse(text, file: "f.toml", runKeys: keys, scope: scope)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(
            message("backend = 'codex'\n[agent]\nbackend = 'claude'")
                == "f.toml:3: agent.backend sets backend, already set on line 1"
        )
        #expect(message("[agent]\ncolour = 1")?.hasPrefix("f.toml:2: unknown key agent.colour (known: ") == true)
        #expect(
            message("[keys]\nopenia = 'x'")?.hasPrefix("f.toml:2: unknown key keys.openia (known: anthropic") == true
        )
        #expect(message("[keys]\nopenai = 3") == "f.toml:2: keys.openai must be a non-empty string")
        #expect(message("[keys]\nopenai = 'sk-1'", scope: .project)?.contains("committed") == true)
    }

    @Test func multiProviderToolsGetTheKeyTheirModelNames() {
        #expect(ModelProvider.keyVariables(model: "anthropic/claude-sonnet-4-5", baseURL: nil) == ["ANTHROPIC_API_KEY"])
        #expect(ModelProvider.keyVariables(model: "gpt-5", baseURL: nil) == ["OPENAI_API_KEY"])
        #expect(
            ModelProvider.keyVariables(model: "gemini/gemini-2.5-pro", baseURL: nil) == [
                "GEMINI_API_KEY", "GOOGLE_API_KEY",
            ]
        )
        #expect(ModelProvider.keyVariables(model: "claude-3-5", baseURL: "http://127.0.0.1:1/v1") == ["OPENAI_API_KEY"])
        #expect(ModelProvider.keyVariables(model: "qwen3", baseURL: nil).count == 4)
    }
}
