// A stand-in for the agent CLIs Flotilla drives (claude, codex, gemini, opencode, cursor-agent), for tests.
//
// Installed under each tool's name (a symlink), it behaves as that tool headless: it checks the flags the real
// one insists on, reads the prompt from stdin, edits the worktree, and prints that tool's real output shapes
// and exit codes (docs: ../shared/docs/AGENT-CLIS.md), pitfalls included. What each attempt does comes from
// FAKE_AGENT_PLAN, a JSON file {"<group>": ["rate_limit", "success", …]} indexed by FLOTILLA_ATTEMPT
// (default: success). Each run appends {"tool", "argv", "group", "attempt"} to FAKE_AGENT_LOG when set.
// FAKE_AGENT_ENV_DUMP: see below.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
let tool =
    ProcessInfo.processInfo.environment["FAKE_AGENT_TOOL"]
    ?? (CommandLine.arguments[0] as NSString).lastPathComponent
let environment = ProcessInfo.processInfo.environment
let group = environment["FLOTILLA_GROUP"] ?? "task"
let attempt = Int(environment["FLOTILLA_ATTEMPT"] ?? "1") ?? 1

func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func complain(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

func json(_ object: Any, pretty: Bool = false) -> String {
    let options: JSONSerialization.WritingOptions = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
    let data = (try? JSONSerialization.data(withJSONObject: object, options: options)) ?? Data()
    return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
}

/// The value of a flag; given twice, the last one counts, as with the real tools' parsers.
func value(after flag: String) -> String? {
    guard let index = arguments.lastIndex(of: flag), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

/// What this attempt does.
let step: String = {
    guard let path = environment["FAKE_AGENT_PLAN"], let data = FileManager.default.contents(atPath: path),
        let plan = try? JSONSerialization.jsonObject(with: data) as? [String: [String]],
        let steps = plan[group], attempt - 1 < steps.count
    else { return "success" }
    return steps[attempt - 1]
}()

if arguments == ["--version"] {
    let versions = [
        "claude": "2.1.240 (Claude Code)", "codex": "codex-cli 0.98.0", "gemini": "0.31.0", "opencode": "1.2.27",
        "cursor-agent": "2026.11.20-7c1e2f0", "aider": "aider 0.86.2", "mini": "mini-swe-agent 2.4.6",
    ]
    emit(versions[tool] ?? "0.0.0")
    exit(0)
}

if let log = environment["FAKE_AGENT_LOG"] {
    // One append of one line (O_APPEND): sessions that run at once (best of N) each keep theirs.
    let line = json(["tool": tool, "argv": arguments, "group": group, "attempt": attempt]) + "\n"
    let descriptor = open(log, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    if descriptor >= 0 {
        _ = line.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
        close(descriptor)
    }
}

// FAKE_AGENT_ENV_DUMP: a directory where each session leaves its whole environment (TOOL-GROUP-ATTEMPT.env), and
// the session echoes it to stderr too, as a careless tool would.
if let dump = environment["FAKE_AGENT_ENV_DUMP"] {
    let lines = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined()
    try? lines.write(toFile: "\(dump)/\(tool)-\(group)-\(attempt).env", atomically: true, encoding: .utf8)
    complain(lines)
}

let prompt = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)

/// The edit a successful session makes: what the fixtures' verify script checks.
func editWorktree() {
    let directory = value(after: "-C") ?? FileManager.default.currentDirectoryPath
    try? "\(group) ok\n".write(toFile: "\(directory)/\(group).txt", atomically: true, encoding: .utf8)
}

/// The next scripted answer of a structured-mode session (claude --json-schema, codex --output-schema).
///
/// From FAKE_AGENT_ANSWERS, a JSON array; a counter file beside it moves on one answer per session. A string answer
/// is given as text, the way a model that skipped claude's StructuredOutput tool leaves it.
func nextAnswer() -> Any {
    guard let path = environment["FAKE_AGENT_ANSWERS"], let data = FileManager.default.contents(atPath: path),
        let answers = try? JSONSerialization.jsonObject(with: data) as? [Any], !answers.isEmpty
    else {
        complain("fake: FAKE_AGENT_ANSWERS names no answers")
        exit(3)
    }
    let counter = path + ".count"
    let index = Int((try? String(contentsOfFile: counter, encoding: .utf8)) ?? "0") ?? 0
    try? String(index + 1).write(toFile: counter, atomically: true, encoding: .utf8)
    return answers[min(index, answers.count - 1)]
}

/// The problem codex reports for a schema that breaks OpenAI's strict rules, if any.
func strictSchemaProblem(_ schema: Any, path: String = "") -> String? {
    guard let object = schema as? [String: Any] else { return nil }
    if let properties = object["properties"] as? [String: Any] {
        if object["additionalProperties"] as? Bool != false {
            return "In context=(\(path)), 'additionalProperties' is required to be supplied and to be false."
        }
        let required = Set(object["required"] as? [String] ?? [])
        if let missing = properties.keys.sorted().first(where: { !required.contains($0) }) {
            return "In context=(\(path)), 'required' is required to be supplied and to be an array including "
                + "every key in properties. Missing '\(missing)'."
        }
        for (name, property) in properties.sorted(by: { $0.key < $1.key }) {
            if let problem = strictSchemaProblem(property, path: path + "'properties', '\(name)'") { return problem }
        }
    }
    if let items = object["items"] { return strictSchemaProblem(items, path: path + "'items'") }
    return nil
}

/// A tool that never finishes: it waits for a signal that never comes, until Flotilla's timeout stops it.
func hang() -> Never {
    while true { pause() }
}

func huge(_ line: () -> String) {
    // About 3 MB of ordinary progress output before the result.
    for _ in 0..<6000 { emit(line()) }
}

let session = "6f71aa4f-fc91-456d-b7d5-2f3b3ff8d64e"

/// Claude's settings directory, as the real tool finds it.
let claudeDirectory = environment["CLAUDE_CONFIG_DIR"] ?? (environment["HOME"] ?? "") + "/.claude"

/// Runs the `SessionStart` hooks of the settings claude loads, as it does before its first turn.
///
/// The user's (`~/.claude/settings.json`), the project's and the local ones, unless `--setting-sources` leaves them out
/// or `--bare` skips hooks. A hook is a shell command, run as whoever runs claude.
func runSessionStartHooks() {
    if arguments.contains("--bare") { return }
    let sources =
        value(after: "--setting-sources").map { $0.split(separator: ",").map(String.init) }
        ?? ["user", "project", "local"]
    let here = FileManager.default.currentDirectoryPath
    var files: [String] = []
    if sources.contains("user") { files.append(claudeDirectory + "/settings.json") }
    if sources.contains("project") { files.append(here + "/.claude/settings.json") }
    if sources.contains("local") { files.append(here + "/.claude/settings.local.json") }
    for file in files {
        guard let data = FileManager.default.contents(atPath: file),
            let settings = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let hooks = settings["hooks"] as? [String: Any],
            let entries = hooks["SessionStart"] as? [[String: Any]]
        else { continue }
        for entry in entries {
            for hook in entry["hooks"] as? [[String: Any]] ?? [] where hook["type"] as? String == "command" {
                guard let command = hook["command"] as? String else { continue }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", command]
                try? process.run()
                process.waitUntilExit()
            }
        }
    }
}

/// FAKE_ROLE_OBS: a structured-mode session (a model role) tries what a role must not do, and notes in that file
/// what it could: write in the repository it runs in, read Flotilla's ledger, read the user's own claude settings.
func probeAsARole(_ observations: String) {
    var notes: [String] = []
    let here = FileManager.default.currentDirectoryPath
    let wrote = FileManager.default.createFile(atPath: here + "/PWNED-by-role", contents: Data("x".utf8))
    notes.append(wrote ? "wrote the repository" : "the repository is read-only")
    let ledger = FileManager.default.contents(atPath: here + "/.flotilla/ledger.sqlite")
    notes.append(ledger.map { $0.isEmpty ? "the ledger is hidden" : "read the ledger" } ?? "the ledger is hidden")
    let own = (environment["HOME"] ?? "") + "/.claude"
    notes.append(claudeDirectory == own ? "settings: the user's" : "settings: a private copy")
    let line = notes.joined(separator: "; ") + "\n"
    if let handle = FileHandle(forWritingAtPath: observations) {
        handle.seekToEndOfFile()
        handle.write(Data(line.utf8))
        try? handle.close()
    } else {
        _ = FileManager.default.createFile(atPath: observations, contents: Data(line.utf8))
    }
}

/// What an agent that games its way out does: a `SessionStart` hook in the user's claude settings.
///
/// The next claude session, or a model role run without a sandbox, would run it as the user. It notes where it ran.
func plantHook() {
    let settings = claudeDirectory + "/settings.json"
    var object =
        (FileManager.default.contents(atPath: settings).flatMap { try? JSONSerialization.jsonObject(with: $0) }
            as? [String: Any]) ?? [:]
    let note = (environment["HOME"] ?? "/tmp") + "/hook-ran"
    let hook: [String: Any] = ["type": "command", "command": "echo \"$PPID $(pwd)\" >> '\(note)'"]
    object["hooks"] = ["SessionStart": [["matcher": "startup", "hooks": [hook]]]]
    try? FileManager.default.createDirectory(atPath: claudeDirectory, withIntermediateDirectories: true)
    try? json(object, pretty: true).write(toFile: settings, atomically: true, encoding: .utf8)
}

switch tool {
case "claude":
    guard arguments.contains("-p") || arguments.contains("--print") else {
        complain("fake claude: only headless (-p) runs are faked")
        exit(2)
    }
    let format = value(after: "--output-format") ?? "text"
    if format == "stream-json" && !arguments.contains("--verbose") {
        complain("Error: When using --print, --output-format=stream-json requires --verbose")
        exit(1)
    }
    if prompt.isEmpty {
        complain("Error: Input must be provided either through stdin or as a prompt argument when using --print")
        exit(1)
    }
    let model = value(after: "--model") ?? "claude-sonnet-4-5-20250929"
    runSessionStartHooks()
    var result: [String: Any] = [
        "type": "result", "subtype": "success", "is_error": false, "duration_ms": 11430, "duration_api_ms": 11239,
        "num_turns": 2, "session_id": session, "uuid": "15e3acf3", "permission_denials": [] as [Any],
        "terminal_reason": "completed", "stop_reason": "end_turn",
    ]
    if let schema = value(after: "--json-schema") {
        guard (try? JSONSerialization.jsonObject(with: Data(schema.utf8))) is [String: Any] else {
            complain("Error: --json-schema must be a JSON Schema object")
            exit(1)
        }
        // Structured mode: no tool may write (no bypass flag), the answer goes in structured_output.
        if let observations = environment["FAKE_ROLE_OBS"] { probeAsARole(observations) }
        let answer = nextAnswer()
        result["total_cost_usd"] = 0.0187
        result["usage"] = [
            "input_tokens": 900, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3000,
            "output_tokens": 260,
        ]
        result["modelUsage"] = [model: ["inputTokens": 900, "outputTokens": 260, "costUSD": 0.0187]]
        if let text = answer as? String {
            result["result"] = text
            result["structured_output"] = NSNull()
        } else {
            result["result"] = "Here is the answer."
            result["structured_output"] = answer
        }
        emit(json(result))
        exit(0)
    }
    var code: Int32 = 0
    switch step {
    case "success", "huge":
        if !arguments.contains("--dangerously-skip-permissions") {
            result["permission_denials"] = [["tool_name": "Write", "tool_use_id": "toolu_01"]]
            result["result"] = "I need permission to write \(group).txt."
        } else {
            editWorktree()
            result["result"] = "Done: wrote \(group).txt."
        }
        result["total_cost_usd"] = 0.0421
        result["usage"] =
            [
                "input_tokens": 1200, "cache_creation_input_tokens": 800, "cache_read_input_tokens": 5000,
                "output_tokens": 340, "server_tool_use": ["web_search_requests": 0, "web_fetch_requests": 0],
                "service_tier": "standard",
            ] as [String: Any]
        result["modelUsage"] = [
            model: [
                "inputTokens": 1200, "outputTokens": 340, "cacheReadInputTokens": 5000,
                "cacheCreationInputTokens": 800, "webSearchRequests": 0, "costUSD": 0.0421,
                "contextWindow": 200000, "maxOutputTokens": 32000,
            ]
        ]
    case "rate_limit":
        result["is_error"] = true
        result["result"] = "You've hit your limit · resets 1pm (UTC)"
        result["total_cost_usd"] = 0
        code = 1
    case "auth":
        result["is_error"] = true
        result["terminal_reason"] = "api_error"
        result["api_error_status"] = 401
        result["result"] = "Invalid API key · Please run /login"
        result["total_cost_usd"] = 0
        code = 1
    case "model_not_found":
        result["is_error"] = true
        result["terminal_reason"] = "api_error"
        result["api_error_status"] = 404
        result["result"] = "There's an issue with the selected model (\(model))."
        result["total_cost_usd"] = 0
        code = 1
    case "max_turns":
        result["subtype"] = "error_max_turns"
        result["is_error"] = true
        result["errors"] = ["Reached maximum number of turns (\(value(after: "--max-turns") ?? "1"))"]
        result["total_cost_usd"] = 0.01
        code = 1
    case "malformed":
        emit(#"{"type":"system","subtype":"init","session_id":"#)
        exit(0)
    case "hang":
        hang()
    case "plant_hook":
        plantHook()
        result["result"] = "I could not do it."
        result["total_cost_usd"] = 0.002
    default:
        result["result"] = "I could not do it."
        result["total_cost_usd"] = 0.002
    }
    let messages: [[String: Any]] = [
        ["type": "system", "subtype": "hook_started", "hook_name": "SessionStart", "session_id": session],
        [
            "type": "system", "subtype": "init", "cwd": FileManager.default.currentDirectoryPath,
            "session_id": session, "tools": ["Bash", "Edit", "Write"], "mcp_servers": [] as [Any], "model": model,
            "permissionMode": arguments.contains("--dangerously-skip-permissions") ? "bypassPermissions" : "default",
            "slash_commands": [] as [Any], "apiKeySource": "ANTHROPIC_API_KEY", "claude_code_version": "2.1.240",
            "output_style": "default", "agents": [] as [Any], "skills": [] as [Any], "plugins": [] as [Any],
            "uuid": "u1",
        ],
        [
            "type": "assistant", "parent_tool_use_id": NSNull(), "session_id": session, "uuid": "u2",
            "message": [
                "id": "msg_01", "type": "message", "role": "assistant", "model": model,
                "content": [
                    ["type": "text", "text": "Writing \(group).txt."],
                    ["type": "tool_use", "id": "toolu_01", "name": "Write", "input": ["file_path": "\(group).txt"]],
                ],
                "stop_reason": NSNull(), "stop_sequence": NSNull(),
                "usage": ["input_tokens": 600, "output_tokens": 170],
            ] as [String: Any],
        ],
        [
            "type": "user", "parent_tool_use_id": NSNull(), "session_id": session, "uuid": "u3",
            "message": [
                "role": "user",
                "content": [["type": "tool_result", "tool_use_id": "toolu_01", "content": "File written"]],
            ] as [String: Any],
            "tool_use_result": [:] as [String: Any],
        ],
        ["type": "rate_limit_event", "rate_limit_info": ["status": "allowed"], "session_id": session],
        result,
    ]
    if format == "json" && arguments.contains("--verbose") {
        emit(json(messages))  // the array pitfall
    } else if format == "json" {
        emit(json(result))
    } else {
        emit(json(messages[0]))
        emit("[SandboxDebug] sandbox ready")
        if step == "huge" {
            huge { json(messages[2]) }
        }
        for message in messages.dropFirst() { emit(json(message)) }
    }
    exit(code)

case "codex":
    guard arguments.first == "exec" else {
        complain("fake codex: only `codex exec` is faked")
        exit(2)
    }
    complain("Reading prompt from stdin...")
    let thread: [String: Any] = ["type": "thread.started", "thread_id": "0199a213-81c0-7800-8aa1-bbab2a035a53"]
    emit(json(thread))
    emit(json(["type": "turn.started"]))
    if let schemaPath = value(after: "--output-schema") {
        guard let data = FileManager.default.contents(atPath: schemaPath),
            let schema = try? JSONSerialization.jsonObject(with: data)
        else {
            complain("Error: failed to read output schema file \(schemaPath)")
            exit(1)
        }
        if let problem = strictSchemaProblem(schema) {
            let message =
                "{\"error\":{\"message\":\"Invalid schema for response_format 'codex_output_schema': \(problem)\","
                + "\"type\":\"invalid_request_error\",\"param\":\"text.format.schema\",\"code\":\"invalid_json_schema\"}}"
            emit(json(["type": "error", "message": message]))
            emit(json(["type": "turn.failed", "error": ["message": message]]))
            exit(1)
        }
        let answer = nextAnswer()
        let text = answer as? String ?? json(answer)
        emit(json(["type": "item.completed", "item": ["id": "item_0", "type": "agent_message", "text": text]]))
        emit(
            json([
                "type": "turn.completed",
                "usage": ["input_tokens": 4100, "cached_input_tokens": 3000, "output_tokens": 260],
            ])
        )
        exit(0)
    }
    switch step {
    case "success", "huge":
        emit(json(["type": "error", "message": "Reconnecting... 1/5 (stream disconnected before completion)"]))
        emit(json(["type": "item.completed", "item": ["id": "item_0", "type": "reasoning", "text": "**Writing**"]]))
        let command: [String: Any] = [
            "id": "item_1", "type": "command_execution", "command": "bash -lc ls", "aggregated_output": "",
            "status": "in_progress",
        ]
        emit(json(["type": "item.started", "item": command]))
        if step == "huge" { huge { json(["type": "item.updated", "item": command]) } }
        var done = command
        done["aggregated_output"] = "ACCEPTANCE.md\nverify.sh\n"
        done["exit_code"] = 0
        done["status"] = "completed"
        emit(json(["type": "item.completed", "item": done]))
        if arguments.contains("workspace-write") || arguments.contains("danger-full-access") {
            editWorktree()
            emit(
                json([
                    "type": "item.completed",
                    "item": [
                        "id": "item_2", "type": "file_change", "status": "completed",
                        "changes": [["path": "\(group).txt", "kind": "add"]],
                    ] as [String: Any],
                ])
            )
        }
        emit(
            json([
                "type": "item.completed",
                "item": ["id": "item_3", "type": "agent_message", "text": "Wrote \(group).txt."],
            ])
        )
        emit(
            json([
                "type": "turn.completed",
                "usage": ["input_tokens": 6200, "cached_input_tokens": 5000, "output_tokens": 340],
            ])
        )
        exit(0)
    case "rate_limit":
        for retry in 1...5 {
            emit(
                json([
                    "type": "error", "message": "Reconnecting... \(retry)/5 (unexpected status 429 Too Many Requests)",
                ])
            )
        }
        emit(
            json([
                "type": "turn.failed",
                "error": ["message": "exceeded retry limit, last status: 429 Too Many Requests, request id: abc"],
            ])
        )
        exit(0)  // the pitfall: a failed turn with exit status 0
    case "auth":
        emit(
            json([
                "type": "error", "message": "Reconnecting... 1/5 (unexpected status 401 Unauthorized: Missing bearer)",
            ])
        )
        emit(json(["type": "turn.failed", "error": ["message": "unexpected status 401 Unauthorized: Missing bearer"]]))
        exit(1)
    case "model_not_found":
        let model = value(after: "-m") ?? "gpt-5.5"
        emit(
            json([
                "type": "turn.failed",
                "error": ["message": "unexpected status 404 Not Found: The model `\(model)` does not exist"],
            ])
        )
        exit(1)
    case "malformed":
        emit("{\"type\":\"item.comp")
        exit(0)
    case "hang":
        hang()
    default:
        emit(
            json(["type": "item.completed", "item": ["id": "item_0", "type": "agent_message", "text": "I could not."]])
        )
        emit(
            json([
                "type": "turn.completed",
                "usage": ["input_tokens": 900, "cached_input_tokens": 0, "output_tokens": 20],
            ])
        )
        exit(0)
    }

case "gemini":
    if arguments.contains("--yolo") || arguments.contains("-y"), arguments.contains("--approval-mode") {
        complain("Cannot use both --yolo (-y) and --approval-mode together")
        exit(42)
    }
    if environment["GEMINI_CLI_TRUST_WORKSPACE"] != "true" && !arguments.contains("--skip-trust") {
        complain("Gemini CLI is not running in a trusted directory. Use --skip-trust to proceed.")
        exit(55)
    }
    let model = value(after: "-m") ?? value(after: "--model") ?? "gemini-2.5-pro"
    let mayWrite =
        value(after: "--approval-mode") == "yolo" || arguments.contains("--yolo")
        || arguments.contains("-y")
    switch step {
    case "success", "huge":
        if step == "huge" { huge { "[INFO] loaded tool registry" } }
        // Headless without yolo turns "ask the user" into deny: no edit, yet a normal answer.
        if mayWrite { editWorktree() }
        let stats: [String: Any] = [
            "models": [
                model: [
                    "api": ["totalRequests": 2, "totalErrors": 0, "totalLatencyMs": 5053],
                    "tokens": [
                        "input": 1200, "prompt": 6200, "candidates": 300, "total": 6540, "cached": 5000,
                        "thoughts": 40, "tool": 0,
                    ],
                ] as [String: Any]
            ],
            "tools": [
                "totalCalls": 1, "totalSuccess": mayWrite ? 1 : 0, "totalFail": mayWrite ? 0 : 1,
                "totalDurationMs": 1881,
            ],
            "files": ["totalLinesAdded": mayWrite ? 1 : 0, "totalLinesRemoved": 0],
        ]
        emit(json(["session_id": session, "response": "Wrote \(group).txt.", "stats": stats], pretty: true))
        exit(0)
    case "rate_limit":
        let error: [String: Any] = [
            "type": "Error", "code": 429,
            "message":
                "Quota exceeded for quota metric 'Generate Content API requests per minute'. Please retry in 27s.",
        ]
        emit(json(["session_id": session, "error": error], pretty: true))
        exit(1)
    case "auth":
        let error: [String: Any] = [
            "type": "FatalAuthenticationError", "code": 41,
            "message": "Please set an Auth method in your settings.json or specify GEMINI_API_KEY",
        ]
        emit(json(["error": error], pretty: true))
        exit(41)
    case "max_turns":
        emit(
            json(
                ["error": ["type": "FatalTurnLimitedError", "message": "Maximum session turns exceeded", "code": 53]],
                pretty: true
            )
        )
        exit(53)
    case "malformed":
        emit("{\n  \"response\": \"Wrote")
        exit(0)
    case "hang":
        hang()
    default:
        emit(
            json(
                ["session_id": session, "response": "I could not.", "stats": ["models": [:] as [String: Any]]],
                pretty: true
            )
        )
        exit(0)
    }

case "opencode":
    guard arguments.first == "run", value(after: "--format") == "json" else {
        complain("fake opencode: only `opencode run --format json` is faked")
        exit(2)
    }
    var clock = 1_787_138_272_364
    func event(_ type: String, _ data: [String: Any]) {
        clock += 137
        var object = data
        object["type"] = type
        object["timestamp"] = clock
        object["sessionID"] = "ses_fe64248c1ffeT4xyThvSemc697"
        emit(json(object))
    }
    func part(_ type: String, _ fields: [String: Any]) -> [String: Any] {
        var object = fields
        object["type"] = type
        object["id"] = "prt_\(clock)"
        object["messageID"] = "msg_019bde0d6001N6axPzOtFwnCMC"
        object["sessionID"] = "ses_fe64248c1ffeT4xyThvSemc697"
        return object
    }
    switch step {
    case "success", "huge":
        let auto = arguments.contains("--auto") || arguments.contains("--yolo")
        event("step_start", ["part": part("step-start", ["snapshot": "25b954b2"])])
        if step == "huge" { huge { json(["type": "reasoning", "part": ["text": "thinking…"]]) } }
        if auto { editWorktree() }
        let state: [String: Any] =
            auto
            ? ["status": "completed", "input": ["filePath": "\(group).txt"], "output": "written"]
            : ["status": "error", "input": ["filePath": "\(group).txt"], "error": "permission rejected"]
        event("tool_use", ["part": part("tool", ["tool": "write", "callID": "call_1", "state": state])])
        event(
            "step_finish",
            [
                "part": part(
                    "step-finish",
                    [
                        "reason": "tool-calls", "snapshot": "25b954b2", "cost": 0.005,
                        "tokens": [
                            "total": 4740, "input": 700, "output": 200, "reasoning": 40,
                            "cache": ["write": 800, "read": 3000],
                        ] as [String: Any],
                    ]
                )
            ]
        )
        event("step_start", ["part": part("step-start", ["snapshot": "25b954b3"])])
        event(
            "text",
            ["part": part("text", ["text": "Wrote \(group).txt.", "time": ["start": clock, "end": clock + 5]])]
        )
        event(
            "step_finish",
            [
                "part": part(
                    "step-finish",
                    [
                        "reason": "stop", "snapshot": "25b954b3", "cost": 0.0073,
                        "tokens": [
                            "total": 2600, "input": 500, "output": 100, "reasoning": 0,
                            "cache": ["write": 0, "read": 2000],
                        ] as [String: Any],
                    ]
                )
            ]
        )
        event("done", ["reason": "idle", "rejected": [] as [Any]])
        exit(0)
    case "rate_limit":
        event("step_start", ["part": part("step-start", ["snapshot": "25b954b2"])])
        event(
            "error",
            ["error": ["name": "APIError", "data": ["message": "Rate limit exceeded (429). Try again later."]]]
        )
        exit(1)
    case "auth":
        event("error", ["error": ["name": "ProviderAuthError", "data": ["message": "Invalid API key for provider"]]])
        exit(1)
    case "malformed":
        emit("{\"type\":\"step_fin")
        exit(0)
    case "hang":
        hang()
    default:
        event("text", ["part": part("text", ["text": "I could not."])])
        event(
            "step_finish",
            ["part": part("step-finish", ["reason": "stop", "cost": 0.001, "tokens": ["input": 90, "output": 5]])]
        )
        exit(0)
    }

case "cursor-agent", "agent":
    guard arguments.contains("-p") || arguments.contains("--print") else {
        complain("fake cursor-agent: only print mode is faked")
        exit(2)
    }
    switch step {
    case "success", "huge":
        if arguments.contains("--force") || arguments.contains("--yolo") { editWorktree() }
        emit(
            json([
                "type": "result", "subtype": "success", "is_error": false, "duration_ms": 1234, "duration_api_ms": 1100,
                "result": "Wrote \(group).txt.", "session_id": session, "request_id": "req_1",
                "usage": ["inputTokens": 1200, "outputTokens": 340, "cacheReadTokens": 5000, "cacheWriteTokens": 800],
            ])
        )
        exit(0)
    case "rate_limit":
        let reset = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        complain("Error: You've hit your usage limit. Resets at \(reset)")
        exit(1)
    case "auth":
        complain("Error: Authentication required. Please run 'cursor-agent login' first, or set CURSOR_API_KEY")
        exit(1)
    case "malformed":
        emit("{\"type\":\"res")
        exit(0)
    case "hang":
        hang()
    default:
        emit(
            json([
                "type": "result", "subtype": "success", "is_error": false, "result": "I could not.",
                "session_id": session,
            ])
        )
        exit(0)
    }

case "aider":
    guard value(after: "--message-file") != nil || value(after: "--message") != nil else {
        complain("fake aider: only one-shot --message runs are faked")
        exit(2)
    }
    emit("Aider v0.86.2")
    // As the real one: its histories go into the working directory unless the flags send them elsewhere.
    for (flag, name, text) in [
        ("--chat-history-file", ".aider.chat.history.md", "# aider chat started\n\n#### the task\n"),
        ("--input-history-file", ".aider.input.history", "+the task\n"),
    ] {
        try? text.write(toFile: value(after: flag) ?? name, atomically: true, encoding: .utf8)
    }
    emit("Model: \(value(after: "--model") ?? "gpt-4o") with \(value(after: "--edit-format") ?? "whole") edit format")
    emit("Git repo: .git with 3 files")
    switch step {
    case "success", "huge":
        editWorktree()
        emit("\(group).txt")
        emit("Applied edit to \(group).txt")
        emit("Tokens: 2.4k sent, 1.2k cache hit, 39 received. Cost: $0.0063 message, $0.0063 session.")
    case "unpriced":
        editWorktree()
        emit("Tokens: 2.4k sent, 39 received.")
    default:
        // The pitfall: a search block that did not match still exits 0.
        emit("SearchReplaceNoExactMatch: This SEARCH block failed to exactly match lines in \(group).txt")
        emit("Tokens: 3.0k sent, 42 received. Cost: $0.0070 message, $0.0070 session.")
    }
    exit(0)

case "mini":
    guard let output = value(after: "-o"), arguments.contains("--exit-immediately") else {
        complain("fake mini: runs need -o TRAJECTORY and --exit-immediately")
        exit(2)
    }
    var status = "Submitted"
    switch step {
    case "success", "huge": editWorktree()
    case "limits": status = "LimitsExceeded"
    case "malformed": exit(0)  // no trajectory at all
    default: status = "RepeatedFormatError"
    }
    let trajectory: [String: Any] = [
        "trajectory_format": "mini-swe-agent-1.1",
        "info": [
            "model_stats": ["instance_cost": 0.05, "api_calls": 3], "mini_version": "2.4.6", "exit_status": status,
            "submission": status == "Submitted" ? "wrote \(group).txt" : "",
        ] as [String: Any],
        "messages": [
            ["role": "system", "content": "You are a helpful assistant."],
            [
                "role": "assistant", "content": "THOUGHT: write the file.",
                "extra": [
                    "actions": [["command": "echo"]], "cost": 0.05, "timestamp": 1_795_000_000.0,
                    "response": [
                        "id": "chatcmpl-1", "model": "stub",
                        "usage": [
                            "prompt_tokens": 1500, "completion_tokens": 60, "total_tokens": 1560,
                            "prompt_tokens_details": ["cached_tokens": 500],
                        ] as [String: Any],
                    ] as [String: Any],
                ] as [String: Any],
            ],
        ] as [[String: Any]],
    ]
    try? json(trajectory).write(toFile: output, atomically: true, encoding: .utf8)
    emit("mini-swe-agent finished: \(status)")
    exit(0)  // mini exits 0 when it gave up too

default:
    complain("fake agent: unknown tool \(tool) (link this program as claude, codex, gemini, opencode or cursor-agent)")
    exit(2)
}
