import FlotillaAPI
import FlotillaCore
import FlotillaServer
import FlotillaTestSupport
import Foundation
import Testing

@Suite("The API's contract: OpenAPI, request validation, tokens, rate limits, metrics text", .tags(.medium))
struct APIContractTests {
    @Test func theOpenAPIDocumentDescribesExactlyTheRoutesServed() throws {
        let served = APIServer(service: UnusedService(), configuration: APIConfiguration()).servedRoutes
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any]
        )
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let described = Set(paths.flatMap { path, operations in operations.keys.map { "\($0) \(path)" } })
        #expect(
            served == described,
            "served only: \(served.subtracting(described)); documented only: \(described.subtracting(served))"
        )
        // The API, the attempt detail and its steps' files, approvals, hand-off, checks and steps, the dashboard's page
        // and files, and MCP.
        #expect(served.count == 24)
        // Every schema reference resolves.
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let references = OpenAPIDocument.json.components(separatedBy: "#/components/schemas/").dropFirst()
            .map { String($0.prefix { $0 != "\"" }) }
        for reference in references { #expect(schemas[reference] != nil, "\(reference)") }
    }

    @Test func aValidRequestDecodesAndBadOnesNameEveryField() throws {
        let request = try MissionFields.decode(json: Data(#"{"agent_command": "make agent", "max_cost_usd": -1}"#.utf8))
        #expect(request.agentCommand == "make agent")
        #expect(request.maxCostUSD == -1 && request.limits.maxCostUSD == nil)
        #expect(request.agentCount == 2 && request.mergeBatchSize == 8 && request.dryRun == nil)
        #expect(try MissionFields.decode(request.jsonObject) == request)

        let bad =
            #"{"agents": 1.5, "timeout_seconds": 0, "backend": "magic", "goal": " ", "extra": 1, "pass_env": "HOME", "#
            + #""allow_hosts": ["ok.example", "a b"], "max_attempts": 0}"#
        do {
            _ = try MissionFields.decode(json: Data(bad.utf8))
            Issue.record("accepted an invalid request")
        } catch {
            #expect(error.code == .invalidInput)
            let fields = Dictionary(error.fields.map { ($0.field, $0.message) }) { first, _ in first }
            #expect(fields["agents"] == "must be an integer")
            #expect(fields["timeout_seconds"] == "must be -1 (uncapped) or at least 1")
            #expect(
                fields["backend"]
                    == "must be one of simulate, command, claude, codex, gemini, opencode, cursor, aider, mini"
            )
            #expect(fields["goal"] == "must not be empty")
            #expect(fields["extra"] == "is not a field of a mission")
            #expect(fields["pass_env"] == "must be an array of strings")
            #expect(fields["allow_hosts[1]"] == "must be a host, host:port or *.domain, not a b")
            #expect(fields["max_attempts"] == "must be -1 (uncapped) or between 1 and 1000000")
            #expect(fields.count == 8)
        }
        #expect(throws: FlotillaError.self) { try MissionFields.decode(json: Data("[1]".utf8)) }
        #expect(throws: FlotillaError.self) {
            try MissionFields.decode(
                json: Data(#"{"acceptance": "x", "acceptance_path": "y", "backend": "command"}"#.utf8)
            )
        }
        #expect(throws: FlotillaError.self) {
            try MissionFields.decode(json: Data(#"{"backend": "command", "fallback_backends": ["codex"]}"#.utf8))
        }
    }

    @Test func tokensMatchOnlyInFullAndTheirFileIsChecked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("tokens.json").path
        let limit = RateLimit(perMinute: 60, burst: 10)
        try #"{"tokens": [{"name": "ci", "token": "0123456789abcdef", "repositories": ["/srv/app"], "burst": 3}]}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let tokens = try AccessTokens.read(path: file, defaultLimit: limit) { $0 == "/srv/app" ? $0 : nil }
        #expect(tokens.authenticate("Bearer 0123456789abcdef") == Principal(name: "ci", repositories: ["/srv/app"]))
        #expect(tokens.authenticate("bearer 0123456789abcdef")?.name == "ci")
        #expect(tokens.authenticate("Bearer 0123456789abcde") == nil)
        #expect(tokens.authenticate("Bearer 0123456789abcdefg") == nil)
        #expect(tokens.authenticate("Basic 0123456789abcdef") == nil)
        #expect(tokens.authenticate(nil) == nil)
        #expect(tokens.limit(for: "ci") == RateLimit(perMinute: 60, burst: 3))

        let cases = [
            (
                #"{"tokens": [{"name": "ci", "token": "short"}]}"#,
                "tokens.json: tokens[0].token: must be a string of at least 16 characters"
            ),
            (
                #"{"tokens": [{"name": "ci", "token": "0123456789abcdef", "colour": 1}]}"#,
                "tokens.json: tokens[0].colour: unknown field"
            ),
            (
                #"{"tokens": [{"name": "ci", "token": "0123456789abcdef", "repositories": ["/elsewhere"]}]}"#,
                "tokens.json: tokens[0].repositories[0]: not a repository this daemon serves"
            ),
            (#"{"tokens": {}}"#, "tokens.json: tokens: must be an array"),
            ("nonsense", "tokens.json: not a JSON object"),
        ]
        for (text, message) in cases {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(throws: TokenFileError.self) {
                _ = try AccessTokens.read(path: file, defaultLimit: limit) { $0 == "/srv/app" ? $0 : nil }
            }
            do {
                _ = try AccessTokens.read(path: file, defaultLimit: limit) { $0 == "/srv/app" ? $0 : nil }
            } catch {
                #expect(error.description == message)
            }
        }
    }

    @Test func theRateLimiterAllowsABurstThenSaysHowLongToWait() async {
        let limiter = RateLimiter()
        let limit = RateLimit(perMinute: 6, burst: 2)
        #expect(await limiter.take("ci", limit: limit) == nil)
        #expect(await limiter.take("ci", limit: limit) == nil)
        let wait = await limiter.take("ci", limit: limit)
        // One request every 10 s: the next is at most 10 s away, and more than 9 s since no time has passed.
        #expect(wait.map { $0 > .seconds(9) && $0 <= .seconds(10) } == true)
        // Buckets are per token.
        #expect(await limiter.take("other", limit: limit) == nil)
    }

    @Test func ledgerStatisticsRenderAsPrometheusText() {
        var statistics = LedgerStatistics()
        statistics.missionsByState = ["running": 2]
        statistics.attemptsByOutcome = ["landed": 3, "gate_failed": 1]
        statistics.gateSeconds.observe(0.2)
        statistics.gateSeconds.observe(40)
        var text = PrometheusText()
        statistics.render(into: &text)
        let lines = text.text.split(separator: "\n").map(String.init)
        #expect(lines.contains(#"flotilla_missions{state="running"} 2"#))
        #expect(lines.contains(#"flotilla_attempts_total{outcome="landed"} 3"#))
        #expect(lines.contains(#"flotilla_gate_duration_seconds_bucket{le="0.25"} 1"#))
        #expect(lines.contains(#"flotilla_gate_duration_seconds_bucket{le="60"} 2"#))
        #expect(lines.contains(#"flotilla_gate_duration_seconds_bucket{le="+Inf"} 2"#))
        #expect(lines.contains("flotilla_gate_duration_seconds_sum 40.2"))
        #expect(lines.contains("# TYPE flotilla_gate_duration_seconds histogram"))
    }
}

/// A service the router is built over but that no request reaches.
private struct UnusedService: MissionHost {
    var repositories: [String] { ["/srv/app"] }
    func missions(in repositories: Set<String>?) async throws -> [MissionDTO] { [] }
    func mission(_ id: MissionID) async throws -> MissionDTO? { nil }
    func validate(_ request: MissionFields, repository: String) async throws {}
    func create(_ request: MissionFields, repository: String) async throws -> MissionDTO { throw unused }
    func stop(_ id: MissionID, wait: Duration, end: MissionEnd) async throws -> MissionDTO { throw unused }
    func step(_ id: MissionID, attempts: Int) async throws -> MissionDTO { throw unused }
    func resume(_ id: MissionID) async throws -> MissionDTO { throw unused }
    func approve(_ id: MissionID, groups: [String]) async throws -> ApprovalDTO { throw unused }
    func reject(_ id: MissionID, groups: [String], reason: String) async throws -> ApprovalDTO { throw unused }
    func land(_ id: MissionID, onto branch: String) async throws -> LandingDTO { throw unused }
    func check(_ id: MissionID, groups: [String], commit: String?) async throws -> CheckDTO { throw unused }
    func attempts(_ id: MissionID) async throws -> HistoryDTO { throw unused }
    func attempt(_ id: MissionID, sequence: Int) async throws -> AttemptDetailDTO { throw unused }
    func stepFile(_ id: MissionID, sequence: Int, folder: String, file: String) async throws -> StepFileDTO {
        throw unused
    }
    func events(_ id: MissionID, after: Int64, limit: Int) async throws -> [EventDTO] { [] }
    func checklist(_ id: MissionID) async throws -> ChecklistDTO { throw unused }
    func statistics() async throws -> LedgerStatistics { LedgerStatistics() }
    func recordDelivery(token: String, key: String, mission: MissionID, repository: String) async throws -> MissionID? {
        nil
    }
    func delivery(token: String, key: String, repository: String) async throws -> MissionID? { nil }
    private var unused: FlotillaError { .notFound("not used in this test") }
}
