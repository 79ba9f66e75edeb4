import FlotillaAgents
import FlotillaCore
import FlotillaTestSupport
import Testing

/// The output readers of the agent CLIs, on the real samples and pitfalls of docs/AGENT-CLIS.md.
@Suite("Agent CLI output: real samples and pitfalls", .tags(.small))
struct AgentCLIDialectTests {
    func run(_ stdout: String, stderr: String = "", exit: Int = 0, model: String? = nil) -> CLIRun {
        CLIRun(exitCode: exit, standardOutput: stdout, standardError: stderr, model: model)
    }

    @Test func claudeReadsTheResultLineAmongHooksAndNoise() {
        let output = """
            {"type":"system","subtype":"hook_started","session_id":"s"}
            [SandboxDebug] sandbox ready
            {"type":"system","subtype":"init","cwd":"/w","session_id":"s","tools":["Bash"],"model":"claude-opus-4-7[1m]"}
            {"type":"rate_limit_event","rate_limit_info":{"status":"allowed"}}
            {"type":"result","subtype":"success","is_error":false,"duration_ms":11430,"duration_api_ms":11239,"num_turns":1,"result":"done","stop_reason":"end_turn","session_id":"s","total_cost_usd":0.21196874999999998,"usage":{"input_tokens":0,"cache_creation_input_tokens":33007,"cache_read_input_tokens":0,"output_tokens":227},"modelUsage":{"MiniMax-M2.7":{"inputTokens":0,"outputTokens":227,"costUSD":0.21196874999999998}}}
            """
        let session = ClaudeCode().interpret(run(output))
        #expect(session.failure == nil)
        #expect(session.finalMessage == "done")
        #expect(session.reportedCostUSD == 0.21196874999999998)
        #expect(session.usage == Usage(outputTokens: 227, cacheWriteTokens: 33007))
        #expect(session.model == "MiniMax-M2.7")
    }

    @Test func claudeBranchesOnIsErrorNotOnSubtype() {
        let limit =
            #"{"type":"result","subtype":"success","is_error":true,"result":"You've hit your limit · resets 1pm (UTC)","session_id":"s","total_cost_usd":0}"#
        #expect(
            ClaudeCode().interpret(run(limit, exit: 1)).failure
                == .rateLimited("You've hit your limit · resets 1pm (UTC)")
        )
        let model =
            #"{"type":"result","subtype":"success","is_error":true,"terminal_reason":"api_error","api_error_status":404,"result":"There's an issue with the selected model (sonnet-typo-xyz).","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0}}"#
        #expect(
            ClaudeCode().interpret(run(model, exit: 1)).failure
                == .modelNotFound("There's an issue with the selected model (sonnet-typo-xyz).")
        )
        // An older CLI: an error subtype with is_error false is still a failure.
        let older =
            #"{"type":"result","subtype":"error_during_execution","duration_ms":185041,"is_error":false,"num_turns":0,"session_id":"x","total_cost_usd":0.6571631500000001,"usage":{"input_tokens":112,"cache_creation_input_tokens":58211,"cache_read_input_tokens":1120129,"output_tokens":6814}}"#
        let session = ClaudeCode().interpret(run(older))
        #expect(session.failure == .agentError("claude reported error_during_execution"))
        #expect(
            session.usage
                == Usage(inputTokens: 112, outputTokens: 6814, cacheReadTokens: 1_120_129, cacheWriteTokens: 58211)
        )
        let turns =
            #"{"type":"result","subtype":"error_max_turns","is_error":true,"errors":["Reached maximum number of turns (3)"]}"#
        #expect(ClaudeCode().interpret(run(turns, exit: 1)).failure == .maxTurns("Reached maximum number of turns (3)"))
    }

    @Test func claudeReadsTheArrayFormAndExplainsAMissingResult() {
        let array =
            #"[{"type":"system","subtype":"init","model":"opus"},{"type":"result","subtype":"success","is_error":false,"result":"ok","total_cost_usd":0.5}]"#
        let session = ClaudeCode().interpret(run(array))
        #expect(session.finalMessage == "ok" && session.reportedCostUSD == 0.5 && session.failure == nil)
        let refused = ClaudeCode().interpret(
            run("", stderr: "Error: When using --print, --output-format=stream-json requires --verbose\n", exit: 1)
        )
        #expect(
            refused.failure == .agentError("Error: When using --print, --output-format=stream-json requires --verbose")
        )
        #expect(
            ClaudeCode().interpret(run(#"{"type":"system","subtype":"init""#)).failure
                == .malformedOutput("claude printed no result")
        )
    }

    @Test func codexSucceedsOnlyWithATurnCompletedAndIgnoresTransientErrors() {
        let sample = """
            {"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}
            {"type":"turn.started"}
            {"type":"error","message":"Reconnecting... 2/5 (unexpected status 401 Unauthorized: retry)"}
            {"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Searching for README files**"}}
            {"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"Yep — there’s a `README.md` in the repository root."}}
            {"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122}}
            """
        let session = Codex().interpret(run(sample))
        #expect(session.failure == nil)
        #expect(session.finalMessage == "Yep — there’s a `README.md` in the repository root.")
        #expect(session.usage == Usage(inputTokens: 315, outputTokens: 122, cacheReadTokens: 24448))
        // A failed turn is a failure whatever the exit status.
        let failed = """
            {"type":"thread.started","thread_id":"t"}
            {"type":"error","message":"Reconnecting... 2/5 (unexpected status 404 Not Found: …)"}
            {"type":"turn.failed","error":{"message":"unexpected status 404 Not Found: The model `gpt-5.5` does not exist"}}
            """
        #expect(
            Codex().interpret(run(failed, exit: 0)).failure
                == .modelNotFound("unexpected status 404 Not Found: The model `gpt-5.5` does not exist")
        )
        let crashed = Codex().interpret(run(sample, stderr: "panic\n", exit: 101))
        #expect(crashed.failure == .agentError("codex exited 101: panic"))
    }

    @Test func geminiReadsPrettyPrintedJSONAndItsExitCodes() {
        let sample = """
            Loaded cached credentials.
            {
              "response": "The capital of France is Paris.",
              "stats": {
                "models": {
                  "gemini-2.5-pro": {
                    "api": {"totalRequests": 2, "totalErrors": 0, "totalLatencyMs": 5053},
                    "tokens": {"prompt": 24939, "candidates": 20, "total": 25113, "cached": 21263, "thoughts": 154, "tool": 0}
                  }
                }
              }
            }
            """
        let session = GeminiCLI().interpret(run(sample))
        #expect(session.failure == nil)
        #expect(session.finalMessage == "The capital of France is Paris.")
        #expect(session.usage == Usage(inputTokens: 3676, outputTokens: 174, cacheReadTokens: 21263))
        #expect(session.model == "gemini-2.5-pro")
        let auth = "{\n  \"error\": {\"type\": \"FatalAuthenticationError\", \"message\": \"no key\", \"code\": 41}\n}"
        #expect(GeminiCLI().interpret(run(auth, exit: 41)).failure == .authentication("no key"))
        #expect(
            GeminiCLI().interpret(run("", stderr: "Maximum session turns exceeded", exit: 53)).failure
                == .maxTurns("Maximum session turns exceeded")
        )
    }

    @Test func openCodeSumsEachStepsCostAndTokens() {
        let line =
            #"{"type":"step_finish","timestamp":1787138272364,"sessionID":"ses_fe64248c1ffeT4xyThvSemc697","part":{"id":"prt_1","reason":"stop","snapshot":"25b954b2","messageID":"msg_1","sessionID":"ses_1","type":"step-finish","tokens":{"total":8555,"input":609,"output":1,"reasoning":9,"cache":{"write":0,"read":7936}},"cost":0.25}}"#
        let session = OpenCode().interpret(run(line + "\n" + line))
        #expect(session.reportedCostUSD == 0.5)
        #expect(session.usage == Usage(inputTokens: 1218, outputTokens: 20, cacheReadTokens: 15872))
        let error =
            #"{"type":"error","timestamp":1,"sessionID":"s","error":{"name":"APIError","data":{"message":"Rate limit exceeded (429)"}}}"#
        #expect(OpenCode().interpret(run(error, exit: 1)).failure == .rateLimited("Rate limit exceeded (429)"))
    }

    @Test func cursorFailsOnStandardErrorWithoutJSON() {
        let ok =
            #"{"type":"result","subtype":"success","is_error":false,"duration_ms":1234,"duration_api_ms":1234,"result":"","session_id":"","request_id":""}"#
        #expect(CursorAgent().interpret(run(ok)).failure == nil)
        let denied = CursorAgent().interpret(
            run("", stderr: "Error: Authentication required. Please run 'cursor-agent login'", exit: 1)
        )
        #expect(denied.failure == .authentication("Error: Authentication required. Please run 'cursor-agent login'"))
    }

    @Test func pricesMatchTheLongestModelPrefixAfterTheProvider() throws {
        let table = PricingTable.builtIn
        #expect(table.price(for: "claude-opus-4-5-20251101")?.input == 5)
        #expect(table.price(for: "claude-opus-4-1")?.input == 15)
        #expect(table.price(for: "anthropic/claude-sonnet-4-5")?.output == 15)
        #expect(table.price(for: "gpt-5-mini-2025")?.input == 0.25)
        #expect(table.price(for: "no-such-model") == nil)
        let cost = try #require(
            table.cost(
                of: Usage(inputTokens: 1_000_000, outputTokens: 1_000_000, cacheReadTokens: 1_000_000),
                model: "gpt-5"
            )
        )
        #expect(abs(cost - 11.375) < 1e-9)
    }

    @Test func aiderCountsItsTokenLinesOrItsEstimateWhenAReplyHitsTheLimit() {
        let normal = "Tokens: 2.4k sent, 1.2k cache hit, 39 received. Cost: $0.0063 message, $0.0125 session.\n"
        #expect(
            Aider().interpret(run(normal)).usage == Usage(inputTokens: 2400, outputTokens: 39, cacheReadTokens: 1200)
        )
        #expect(Aider().interpret(run(normal)).reportedCostUSD == 0.0125)
        // What aider 0.86.2 printed when Qwen2.5-Coder-1.5B's reply hit its output cap: no Tokens line at all.
        let limit = """
            Model openai/qwen2.5-coder-1.5b-instruct has hit a token limit!
            Token counts below are approximate.

            Input tokens: ~6,819 of 0 -- possibly exhausted context window!
            Output tokens: ~2,865 of 0 -- possibly exceeded output limit!
            Total tokens: ~9,684 of 0 -- possibly exhausted context window!
            """
        #expect(Aider().interpret(run(limit)).usage == Usage(inputTokens: 6819, outputTokens: 2865))
    }
}
