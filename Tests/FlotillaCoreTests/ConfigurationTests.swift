import FlotillaCore
import Testing

@Suite("Configuration files: the TOML subset and its checks")
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
                == "flotilla.toml:1: unknown table [agents] (known: run, planner, pricing.\"MODEL\")"
        )
        #expect(
            message("verify = 'a'\n[run]\nverify = 'b'")
                == "flotilla.toml:3: verify is set both at the top and in [run]"
        )
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
