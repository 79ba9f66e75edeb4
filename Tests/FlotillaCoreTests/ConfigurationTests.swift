import FlotillaCore
import FlotillaTestSupport
import Foundation
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
                == "flotilla.toml:1: unknown table [agents] (known: run, agent, planner, critic, keys, "
                + "pricing.\"MODEL\", notify.NAME, pipeline.NAME, schedule.NAME, limits)"
        )
        #expect(
            message("[limits]\ndaily_cost_usd = -1")
                == "flotilla.toml:2: limits.daily_cost_usd must be a number of dollars, 0 or more"
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

    @Test func notificationTargetsAreReadWithTheirDefaultsAndEveryMistakeNamesItsLine() throws {
        let file = try ConfigurationFile.parse(
            """
            [notify.ops]
            kind = "webhook"
            url = "https://hooks.example.com/flotilla"
            secret_env = "OPS_HOOK_SECRET"
            events = ["needs_human", "failed"]
            backoff = 0.5

            [notify.desk]
            kind = "desktop"
            """,
            file: "f.toml",
            runKeys: keys
        )
        let ops = try #require(file.notify["ops"])
        #expect(ops.kind == .webhook && ops.secretVariable == "OPS_HOOK_SECRET")
        #expect(ops.events == [.needsHuman, .failed])
        #expect(ops.delay(after: 1) == .milliseconds(500) && ops.delay(after: 3) == .seconds(2))
        #expect(ops.delay(after: 40) == NotificationTarget.maxDelay)
        #expect(file.notify["desk"] == NotificationTarget(name: "desk", kind: .desktop))

        func message(_ text: String) -> String? {
            do {
                _ = try ConfigurationFile.parse(text, file: "f.toml", runKeys: keys)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(
            message("[notify]\nkind = 'slack'")?.hasPrefix("f.toml:2: unknown key notify.kind (known: grace") == true
        )
        #expect(message("[notify]\ngrace = -1") == "f.toml:2: notify.grace must be 0 to 600 seconds")
        #expect(
            try ConfigurationFile.parse("[notify]\ngrace = 30", file: "f.toml", runKeys: keys).notifyGrace
                == .seconds(30)
        )
        #expect(message("[notify.x]\nurl = 'https://a.example'")?.hasPrefix("f.toml:1: [notify.x] needs kind") == true)
        #expect(
            message("[notify.x]\nkind = 'pager'")?.hasPrefix("f.toml:2: notify.x.kind must be one of webhook") == true
        )
        #expect(message("[notify.x]\nkind = 'slack'") == "f.toml:1: [notify.x] needs url (kind slack)")
        #expect(
            message("[notify.x]\nkind = 'slack'\nurl = 'ftp://a.example'")
                == "f.toml:3: notify.x.url must be an http:// or https:// URL"
        )
        #expect(
            message("[notify.x]\nkind = 'webhook'\nurl = 'https://a.example'")?.contains("needs secret_env") == true
        )
        #expect(
            message("[notify.x]\nkind = 'ntfy'\nurl = 'https://ntfy.sh/t'\nsecret_env = 'not a name'")
                == "f.toml:4: notify.x.secret_env must name an environment variable (SOME_NAME)"
        )
        #expect(
            message("[notify.x]\nkind = 'ntfy'\nurl = 'https://ntfy.sh/t'\nevents = ['done']")?
                .hasPrefix("f.toml:4: notify.x.events: \"done\" is not one of needs_human") == true
        )
        #expect(
            message("[notify.x]\nkind = 'desktop'\nurl = 'https://a.example'")?.contains("not used by kind desktop")
                == true
        )
        #expect(
            message("[notify.x]\nkind = 'desktop'\ntimeout = 0")
                == "f.toml:3: notify.x.timeout must be a number of seconds from 0.1 to 300.0"
        )
        #expect(
            message("[notify.x]\nkind = 'desktop'\nattempts = 0")
                == "f.toml:3: notify.x.attempts must be a whole number from 1 to 50"
        )
        #expect(
            message("[notify.x]\nkind = 'desktop'\ncolour = 1")?.hasPrefix("f.toml:3: unknown key notify.x.colour")
                == true
        )
    }

    @Test func aNotificationSaysTheSameBytesOnEveryTryAndIsSignedOverTimestampAndBody() throws {
        let mission = try #require(MissionID("m-abcdef12"))
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        var event = LedgerChange.missionFinished(.completed, summary: "1/1 groups").event(mission: mission, at: at)
        event.id = 7
        #expect(NotificationCategory(event) == .completed)
        func failed(_ status: GroupStatus) -> MissionEvent {
            let conclusion = AttemptConclusion(
                key: AttemptKey(group: "a", number: 1),
                outcome: .gateFailed,
                reason: "exit 1",
                feedback: "",
                stall: nil,
                groupStatus: status
            )
            return LedgerChange.attemptFailed(conclusion).event(mission: mission, at: at)
        }
        #expect(NotificationCategory(failed(.blocked)) == .needsHuman)
        #expect(NotificationCategory(failed(.pending)) == nil)
        let payload = NotificationPayload(event: event, category: .completed, goal: "g", repository: "/r")
        let target = NotificationTarget(name: "ops", kind: .webhook, url: "http://h/x", secretVariable: "S")
        let pending = PendingNotification(id: 3, target: target, payload: payload, failures: 0)
        var signed: [Data] = []
        let message = NotificationMessage.render(pending, timestamp: 1_800_000_100, secret: "k") { key, data in
            signed.append(data)
            return "sig-\(key)"
        }
        guard case .post(let url, let headers, let body) = message else {
            Issue.record("a webhook is a POST")
            return
        }
        #expect(url == "http://h/x")
        #expect(signed == [Data("1800000100.".utf8) + body])
        #expect(headers.first { $0.name == "X-Flotilla-Signature" }?.value == "sha256=sig-k")
        #expect(headers.first { $0.name == "X-Flotilla-Delivery" }?.value == "3")
        let again = NotificationMessage.render(pending, timestamp: 1_800_000_100, secret: "k") { _, _ in "" }
        if case .post(_, _, let same) = again { #expect(same == body) }
        // Without a secret there is nothing to sign with, and no signature header.
        if case .post(_, let unsigned, _) = NotificationMessage.render(
            pending,
            timestamp: 1,
            secret: nil,
            sign: { _, _ in "x" }
        ) {
            #expect(!unsigned.contains { $0.name == "X-Flotilla-Signature" })
        }
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
