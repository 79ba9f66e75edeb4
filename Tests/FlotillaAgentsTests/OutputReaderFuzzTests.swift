import FlotillaAgents
import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// Nothing an agent prints can crash Flotilla: every backend's output reader, the usage line of `command`, the
/// rate-limit wait and the verify report reader, fed hostile input from a seeded generator for a time budget.
///
/// `FLOTILLA_FUZZ_SEED` picks the seed (fixed by default, so a failure repeats) and `FLOTILLA_FUZZ_SECONDS` the
/// budget per reader (default 2). A crash here is a crash of the test process: the run fails. One reader at a time
/// (`.serialized`): the fuzz keeps one core busy, and the rest of the suite runs beside it.
@Suite("Output readers under hostile input (fuzz)", .tags(.small), .serialized, .timeLimit(.minutes(10)))
struct OutputReaderFuzzTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seed = environment["FLOTILLA_FUZZ_SEED"].flatMap(UInt64.init) ?? 0x5EED_F107_111A
    static let budget = Duration.seconds(bounded: environment["FLOTILLA_FUZZ_SECONDS"].flatMap(Double.init) ?? 2)

    static let dialects: [any AgentCLIDialect] = [
        ClaudeCode(), Codex(), GeminiCLI(), OpenCode(), CursorAgent(), Aider(), MiniSWEAgent(),
    ]

    @Test(arguments: dialects.map(\.name))
    func everyBackendReaderSurvivesHostileOutput(_ name: String) async throws {
        let dialect = try #require(Self.dialects.first { $0.name == name })
        var generator = HostileOutput(seed: Self.seed ^ name.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) })
        var runs = 0
        let clock = ContinuousClock()
        let deadline = clock.now + Self.budget
        while clock.now < deadline || runs < 200 {
            let stdout = generator.document(for: name)
            let stderr = generator.document(for: name)
            let result = generator.document(for: name)
            let agent = CLIAgent(
                dialect: dialect,
                options: AgentCLIOptions(),
                runner: ScriptedRunner(stdout: stdout, stderr: stderr, exit: generator.exitCode(), result: result),
                environment: [:]
            )
            let outcome = try await agent.run(Self.sample)
            try Self.checkBounded(outcome.usage, input: stdout)
            // What the loop does next with it: the event and its message.
            _ = LedgerChange.agentFinished(Self.sample.attempt, outcome.report).event(mission: Self.mission, at: Date())
            _ = formatUSD(outcome.usage.costUSD)
            runs += 1
        }
        #expect(runs >= 200)
    }

    @Test func theCommandUsageLineTheRateLimitWaitAndTheVerifyReportSurviveHostileInput() async throws {
        var generator = HostileOutput(seed: Self.seed)
        let clock = ContinuousClock()
        let deadline = clock.now + Self.budget
        var runs = 0
        while clock.now < deadline || runs < 500 {
            let text = generator.document(for: "command")
            let command = CommandAgent(
                command: "agent",
                runner: ScriptedRunner(stdout: text, stderr: "", exit: generator.exitCode()),
                environment: [:]
            )
            let outcome = try await command.run(Self.sample)
            try Self.checkBounded(outcome.usage, input: text)
            _ = LedgerChange.agentFinished(Self.sample.attempt, outcome.report).event(mission: Self.mission, at: Date())
            let wait = RateLimitBackoff().delay(
                after: generator.rateLimitMessage(),
                consecutive: runs % 30,
                now: Date()
            )
            #expect(wait >= .zero && wait <= .seconds(900))
            let report = generator.report()
            if let parsed = VerifyReport.read(report) {
                let verification = Verification(
                    kind: .gate,
                    attempt: Self.sample.attempt,
                    commit: String(repeating: "a", count: 40),
                    command: "./verify.sh",
                    groups: ["a"],
                    exitCode: 0,
                    passed: true,
                    timedOut: false,
                    duration: .zero,
                    outputTail: "",
                    report: .object(["groups": .object(parsed.groups)])
                )
                _ = verification.criteria(in: "a")
            }
            runs += 1
        }
        #expect(runs >= 500)
    }

    /// The runner keeps at most 16 MB of a process's stdout (`ProcessRequest.captureLimit`), so that is the longest
    /// line a reader can be given; the end-to-end adversary prints 100 MB through the real runner.
    @Test func sixteenMegabyteLinesAndDeepNestingAreReadWithoutCrashing() async throws {
        let long = String(repeating: "x", count: 16 << 20)
        let longJSON = "{\"type\":\"result\",\"result\":\"" + long + "\",\"total_cost_usd\":1e17}"
        let deepArray = String(repeating: "[", count: 200_000)
        let deepObject = String(repeating: "{\"a\":", count: 100_000)
        for document in [long, longJSON, deepArray, deepObject, "{\"cost_usd\":" + deepArray] {
            for dialect in Self.dialects {
                let agent = CLIAgent(
                    dialect: dialect,
                    options: AgentCLIOptions(),
                    // stderr reaches readers as its last 64 KB (`ProcessRequest.tailLimit`).
                    runner: ScriptedRunner(
                        stdout: document,
                        stderr: String(document.suffix(64 << 10)),
                        exit: 1,
                        result: document
                    ),
                    environment: [:]
                )
                let outcome = try await agent.run(Self.sample)
                try Self.checkBounded(outcome.usage, input: String(document.prefix(80)))
            }
            let command = CommandAgent(
                command: "agent",
                runner: ScriptedRunner(stdout: document, stderr: "", exit: 0),
                environment: [:]
            )
            try Self.checkBounded(try await command.run(Self.sample).usage, input: String(document.prefix(80)))
            #expect(VerifyReport.read(Data(document.utf8)) == nil || document == longJSON)
        }
    }

    @Test func reportedFiguresAreBoundedNotBelieved() {
        #expect(Usage.tokens(1e300) == Usage.tokenLimit)
        #expect(Usage.tokens(-5) == 0)
        #expect(Usage.tokens(.nan) == 0)
        #expect(Usage.dollars(1e17) == Usage.costLimitUSD)
        #expect(Usage.dollars(.infinity) == nil)
        #expect(Usage.dollars(-0.5) == nil)
        #expect(formatUSD(1e17) == "$1e+17")
        #expect(formatUSD(.nan) == "$?")
        #expect(formatUSD(1_234.5) == "$1234.50")
        var total = Usage(inputTokens: Int.max - 1)
        total.add(Usage(inputTokens: 10))
        #expect(total.inputTokens == Int.max)
        #expect(Duration.seconds(bounded: 1e300) == .seconds(3_200_000_000))
        #expect(Duration.seconds(bounded: -.infinity) == .zero)
    }

    static let mission = MissionID("m-0000f022") ?? MissionID.random()
    static let sample = AgentRequest(
        mission: mission,
        attempt: AttemptKey(group: "a", number: 1),
        worktree: NSTemporaryDirectory(),
        prompt: "p",
        promptFile: "/dev/null",
        model: "claude-sonnet-4-5",
        timeout: .seconds(60),
        environment: [:],
        transcriptPath: NSTemporaryDirectory() + "/flotilla-fuzz-\(getpid())/session.log"
    )

    static func checkBounded(_ usage: Usage, input: String) throws {
        let context = Comment(rawValue: "input: \(input.prefix(200))")
        #expect(usage.costUSD.isFinite && usage.costUSD >= 0 && usage.costUSD <= Usage.costLimitUSD, context)
        for tokens in [usage.inputTokens, usage.outputTokens, usage.cacheReadTokens, usage.cacheWriteTokens] {
            #expect(tokens >= 0 && tokens <= Usage.tokenLimit, context)
        }
    }
}

/// A process runner that "runs" nothing and answers with scripted output, and writes the file a tool would write where
/// it is told to (`-o PATH`, mini's trajectory).
private struct ScriptedRunner: ProcessRunner {
    let stdout: String
    let stderr: String
    let exit: Int32
    var result: String?

    func run(_ request: ProcessRequest) async throws -> ProcessResult {
        if let result, let flag = request.arguments.firstIndex(of: "-o"), flag + 1 < request.arguments.count {
            _ = FileManager.default.createFile(atPath: request.arguments[flag + 1], contents: Data(result.utf8))
        }
        return ProcessResult(
            termination: .exited(exit),
            standardOutput: stdout,
            standardError: stderr,
            outputTail: String((stdout + stderr).suffix(64 << 10))
        )
    }
}

/// Hostile documents shaped like what each tool prints, with the figures and structure an attacker would pick.
private struct HostileOutput {
    var random: SeededGenerator

    init(seed: UInt64) {
        random = SeededGenerator(seed: seed)
    }

    static let numbers = [
        "1e17", "1e308", "-1e308", "1e400", "-1e400", "-0", "0", "NaN", "Infinity", "-Infinity", "9223372036854775807",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999999999999", "1e-400", "-1", "0.5",
        "18446744073709551616", "4.9e-324", "1.7976931348623157e308", "true", "null", "\"12\"", "[]", "{}",
    ]

    mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }

    mutating func number() -> String { pick(Self.numbers) }

    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    mutating func exitCode() -> Int32 { pick([0, 0, 1, 2, 127, -1, 255]) }

    /// Bytes that are not UTF-8, as a String would carry them after decoding.
    mutating func garbage() -> String {
        let count = Int(random.next() % 64)
        let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        return String(decoding: bytes + [0xFF, 0xFE, 0xC0, 0x80], as: UTF8.self)
    }

    mutating func value(depth: Int = 0) -> String {
        switch random.next() % 8 {
        case 0, 1, 2: return number()
        case 3: return "\"" + garbage().replacingOccurrences(of: "\"", with: "") + "\""
        case 4 where depth < 4: return "[" + value(depth: depth + 1) + "," + value(depth: depth + 1) + "]"
        case 5 where depth < 4: return "{\"k\":" + value(depth: depth + 1) + "}"
        case 6: return String(repeating: "[", count: Int(random.next() % 3000))
        default: return "null"
        }
    }

    /// One line in the shape a tool prints, with hostile figures.
    mutating func line(for tool: String) -> String {
        let v = { (g: inout HostileOutput) in g.value() }
        switch tool {
        case "claude":
            return #"{"type":"result","subtype":"success","is_error":"# + pick(["false", "true", number()])
                + #","result":"# + v(&self) + #","total_cost_usd":"# + v(&self)
                + #","api_error_status":"# + v(&self) + #","usage":{"input_tokens":"# + v(&self)
                + #","output_tokens":"# + v(&self) + #","cache_read_input_tokens":"# + v(&self)
                + #","cache_creation_input_tokens":"# + v(&self) + #"},"modelUsage":{"m":{"costUSD":"# + v(&self)
                + "}}}"
        case "codex":
            return pick([
                #"{"type":"turn.completed","usage":{"input_tokens":"# + v(&self) + #","cached_input_tokens":"#
                    + v(&self)
                    + #","output_tokens":"# + v(&self) + "}}",
                #"{"type":"turn.failed","error":{"message":"# + v(&self) + "}}",
                #"{"type":"error","message":"retry in "# + number() + #"s"}"#,
                #"{"type":"item.completed","item":{"type":"agent_message","text":"# + v(&self) + "}}",
            ])
        case "gemini":
            return #"{"response":"# + v(&self) + #","error":{"code":"# + v(&self) + #","message":"# + v(&self)
                + #"},"stats":{"models":{"m":{"tokens":{"prompt":"# + v(&self) + #","cached":"# + v(&self)
                + #","candidates":"# + v(&self) + #","thoughts":"# + v(&self) + "}}}}}"
        case "opencode":
            return #"{"type":"# + pick([#""step_finish""#, #""text""#, #""error""#]) + #","part":{"cost":"# + v(&self)
                + #","text":"# + v(&self) + #","tokens":{"input":"# + v(&self) + #","output":"# + v(&self)
                + #","reasoning":"# + v(&self) + #","cache":{"read":"# + v(&self) + #","write":"# + v(&self)
                + "}}},\"error\":{\"data\":{\"message\":" + v(&self) + "}}}"
        case "cursor":
            return #"{"type":"result","is_error":"# + pick(["false", "true"]) + #","result":"# + v(&self)
                + #","usage":{"inputTokens":"# + v(&self) + #","outputTokens":"# + v(&self) + #","cacheReadTokens":"#
                + v(&self) + #","cacheWriteTokens":"# + v(&self) + "}}"
        case "aider":
            return "Tokens: " + number() + "k sent, " + number() + " cache hit, " + number() + " received. Cost: $"
                + number() + " message, $" + number() + " session."
        case "mini":
            return #"{"info":{"model_stats":{"instance_cost":"# + v(&self) + #"},"exit_status":"#
                + pick([#""Submitted""#, #""LimitsExceeded""#, v(&self)]) + #","submission":"# + v(&self) + "}}"
        default:
            return #"{"cost_usd":"# + v(&self) + #","input_tokens":"# + v(&self) + #","output_tokens":"# + v(&self)
                + #","cache_read_tokens":"# + v(&self) + #","message":"# + v(&self) + "}"
        }
    }

    /// A document: tool-shaped lines mixed with noise, truncations and garbage.
    mutating func document(for tool: String) -> String {
        var lines: [String] = []
        for _ in 0..<Int(random.next() % 12) {
            var line = chance(80) ? self.line(for: tool) : garbage()
            if chance(15) { line = String(line.prefix(Int(random.next() % UInt64(max(1, line.count))))) }
            if chance(5) { line += String(repeating: "9", count: Int(random.next() % 5000)) }
            lines.append(line)
        }
        return lines.joined(separator: chance(10) ? "\r\n" : "\n")
    }

    mutating func rateLimitMessage() -> String {
        pick(["retry in ", "Retry-After: ", "try again in ", "resets at "]) + pick(Self.numbers)
            + pick(["s", "ms", "m", " minutes", "", "Z"])
            + pick(["", " 99999-12-31T00:00:00Z", " 0001-01-01T00:00:00Z"])
    }

    mutating func report() -> Data {
        if chance(10) { return Data(String(repeating: "[", count: 100_000).utf8) }
        let text =
            #"{"groups":{"a":{"passed":"# + value() + #","criteria":{"c1":"# + value() + #","c2":{"passed":"#
            + value() + "}}}},\"metrics\":" + value() + "}"
        var bytes = Array(text.utf8)
        if chance(20), !bytes.isEmpty { bytes[Int(random.next() % UInt64(bytes.count))] = 0xFF }
        return Data(bytes)
    }
}
