import FlotillaCore
import Foundation

/// The body of `POST /missions` and `POST /webhook`: what `flotilla run` takes as flags, as JSON.
///
/// Decoded by hand rather than by `Codable`, so that every problem is reported with the field it is about,
/// all at once, the way a JSON Schema validator would.
package struct CreateMissionRequest: Sendable, Equatable {
    /// The repository to work in; may be left out when the daemon serves exactly one.
    package var repository: String?
    package var goal: String?
    /// The checklist itself, Markdown or JSON text.
    package var acceptance: String?
    /// A checklist file in the repository (default `ACCEPTANCE.md`), when `acceptance` is not given.
    package var acceptancePath: String?
    package var verify: String?
    package var agents = 2
    package var backend: String?
    package var agentCommand: String?
    package var agentBinary: String?
    package var agentBaseURL: String?
    package var maxTurns: Int?
    package var rateLimitBackoffSeconds: Double?
    package var rateLimitMaxWaitSeconds: Double?
    package var critic: String?
    package var criticURL: String?
    package var criticModel: String?
    package var criticBinary: String?
    package var scenario: String?
    package var model: String?
    package var maxCostUSD: Double = 10
    package var timeoutSeconds: Double = 14_400
    package var maxAttempts = -1
    package var attemptTimeoutSeconds: Double = 1800
    package var verifyTimeoutSeconds: Double = 1800
    package var stallThreshold = 3
    package var mergeBatch = 8
    package var targetBranch: String?
    package var base: String?
    package var protect: [String] = []
    package var passEnvironment: [String] = []
    /// Agent CLIs that take over, in order, while the backend is rate limited.
    package var fallbackBackends: [String] = []
    /// `PROVIDER=PATH` files holding API keys (on the machine that runs the mission).
    package var keyFiles: [String] = []
    /// Let attempts edit existing tests (taken back before the gate otherwise).
    package var allowTestEdits = false
    /// `auto` (default), `bwrap` or `none`.
    package var sandbox: String?
    /// What sessions may reach: `open`, `allowlist` or `none` (default: the backend's).
    package var network: String?
    package var allowHosts: [String] = []
    /// What the verify command may reach: `open`, `allowlist` or `none` (default).
    package var verifyNetwork: String?
    package var sandboxRead: [String] = []
    package var sandboxWrite: [String] = []
    /// Check everything, create nothing.
    package var dryRun = false

    package init() {}

    /// Every field the API accepts, with its JSON type, for validation and the OpenAPI document.
    package static let fields: [(name: String, type: FieldType)] = [
        ("repository", .string), ("goal", .string), ("acceptance", .string), ("acceptance_path", .string),
        ("verify", .string), ("agents", .integer), ("backend", .string), ("agent_command", .string),
        ("agent_binary", .string), ("agent_base_url", .string), ("max_turns", .integer),
        ("rate_limit_backoff_seconds", .number),
        ("rate_limit_max_wait_seconds", .number), ("critic", .string), ("critic_url", .string),
        ("critic_model", .string), ("critic_binary", .string),
        ("scenario", .string), ("model", .string), ("max_cost_usd", .number), ("timeout_seconds", .number),
        ("max_attempts", .integer), ("attempt_timeout_seconds", .number), ("verify_timeout_seconds", .number),
        ("stall_threshold", .integer), ("merge_batch", .integer), ("target_branch", .string), ("base", .string),
        ("protect", .stringArray), ("pass_env", .stringArray), ("fallback_backends", .stringArray),
        ("key_files", .stringArray), ("allow_test_edits", .boolean), ("sandbox", .string), ("network", .string),
        ("allow_hosts", .stringArray), ("verify_network", .string), ("sandbox_read", .stringArray),
        ("sandbox_write", .stringArray),
        ("dry_run", .boolean),
    ]

    /// The agent backends a request may name.
    package static let backends = ["simulate", "command"] + agentCLIs

    /// The backends that are agent CLIs: those a fallback may be.
    package static let agentCLIs = ["claude", "codex", "gemini", "opencode", "cursor", "aider", "mini"]

    package enum FieldType: String, Sendable {
        case string, integer, number, boolean
        case stringArray = "array"
    }

    /// Decodes and validates `body`; throws ``RequestValidationError`` naming every bad field.
    package static func decode(_ body: Data) throws(RequestValidationError) -> CreateMissionRequest {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: body)
        } catch {
            throw RequestValidationError([.init(field: "(body)", message: "is not valid JSON")])
        }
        guard case .object(let object) = value else {
            throw RequestValidationError([.init(field: "(body)", message: "must be a JSON object")])
        }
        var reader = FieldReader(object: object)
        var request = CreateMissionRequest()
        request.repository = reader.string("repository")
        request.goal = reader.string("goal", maxLength: 10_000)
        request.acceptance = reader.string("acceptance", maxLength: 1_000_000)
        request.acceptancePath = reader.string("acceptance_path")
        request.verify = reader.string("verify", maxLength: 10_000)
        request.agents = reader.integer("agents", in: 1...64) ?? request.agents
        request.backend = reader.string("backend", oneOf: backends)
        request.agentCommand = reader.string("agent_command", maxLength: 10_000)
        request.agentBinary = reader.string("agent_binary")
        request.agentBaseURL = reader.string("agent_base_url")
        request.maxTurns = reader.integer("max_turns", in: 1...10_000)
        request.rateLimitBackoffSeconds = reader.number("rate_limit_backoff_seconds", minimum: 0)
        request.rateLimitMaxWaitSeconds = reader.number("rate_limit_max_wait_seconds", minimum: 0)
        request.critic = reader.string("critic", oneOf: ["openai", "anthropic", "claude", "codex"])
        request.criticURL = reader.string("critic_url")
        request.criticModel = reader.string("critic_model")
        request.criticBinary = reader.string("critic_binary")
        request.scenario = reader.string("scenario")
        request.model = reader.string("model")
        request.maxCostUSD = reader.number("max_cost_usd", uncappable: true, minimum: 0) ?? request.maxCostUSD
        request.timeoutSeconds =
            reader.number("timeout_seconds", uncappable: true, minimum: 1) ?? request.timeoutSeconds
        request.maxAttempts = reader.integer("max_attempts", in: 1...1_000_000, uncappable: true) ?? request.maxAttempts
        request.attemptTimeoutSeconds =
            reader.number("attempt_timeout_seconds", minimum: 1) ?? request.attemptTimeoutSeconds
        request.verifyTimeoutSeconds =
            reader.number("verify_timeout_seconds", minimum: 1) ?? request.verifyTimeoutSeconds
        request.stallThreshold = reader.integer("stall_threshold", in: 1...1000) ?? request.stallThreshold
        request.mergeBatch = reader.integer("merge_batch", in: 1...1000) ?? request.mergeBatch
        request.targetBranch = reader.string("target_branch")
        request.base = reader.string("base")
        request.protect = reader.strings("protect") ?? []
        request.passEnvironment = reader.strings("pass_env") ?? []
        request.fallbackBackends = reader.strings("fallback_backends") ?? []
        request.keyFiles = reader.strings("key_files") ?? []
        for (index, entry) in request.keyFiles.enumerated() {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count != 2 || APIKeys.variable(forConfigKey: parts[0]) == nil || parts[1].isEmpty {
                reader.fail(
                    "key_files[\(index)]",
                    "must be PROVIDER=PATH with PROVIDER one of \(APIKeys.kinds.map(\.configKey).joined(separator: ", "))"
                )
            }
        }
        for (index, fallback) in request.fallbackBackends.enumerated() {
            if !agentCLIs.contains(fallback) {
                reader.fail(
                    "fallback_backends[\(index)]",
                    "must be an agent CLI (\(agentCLIs.joined(separator: ", "))), not \(fallback)"
                )
            } else if fallback == request.backend || request.fallbackBackends[..<index].contains(fallback) {
                reader.fail("fallback_backends[\(index)]", "repeats \(fallback)")
            }
        }
        if !request.fallbackBackends.isEmpty, let backend = request.backend, !agentCLIs.contains(backend) {
            reader.fail("fallback_backends", "needs an agent CLI backend to fall back from, not \(backend)")
        }
        request.allowTestEdits = reader.boolean("allow_test_edits") ?? false
        request.sandbox = reader.string("sandbox", oneOf: SandboxMode.allCases.map(\.rawValue))
        request.network = reader.string("network", oneOf: NetworkAccess.allCases.map(\.rawValue))
        request.verifyNetwork = reader.string("verify_network", oneOf: NetworkAccess.allCases.map(\.rawValue))
        request.allowHosts = reader.strings("allow_hosts") ?? []
        for (index, host) in request.allowHosts.enumerated() where !Self.isHostPattern(host) {
            reader.fail("allow_hosts[\(index)]", "must be a host, host:port or *.domain, not \(host)")
        }
        request.sandboxRead = reader.strings("sandbox_read") ?? []
        request.sandboxWrite = reader.strings("sandbox_write") ?? []
        for (name, paths) in [("sandbox_read", request.sandboxRead), ("sandbox_write", request.sandboxWrite)] {
            for (index, path) in paths.enumerated() where !path.hasPrefix("/") {
                reader.fail("\(name)[\(index)]", "must be an absolute path, not \(path)")
            }
        }
        request.dryRun = reader.boolean("dry_run") ?? false

        if request.acceptance != nil && request.acceptancePath != nil {
            reader.fail("acceptance_path", "cannot be given together with acceptance")
        }
        if request.backend == nil && request.agentCommand == nil && request.scenario == nil {
            reader.fail(
                "backend",
                "is required: simulate (with scenario), command (with agent_command), or an agent CLI (claude, codex, …)"
            )
        }
        for name in object.keys.sorted() where !fields.contains(where: { $0.name == name }) {
            reader.fail(name, "is not a field of this request")
        }
        if !reader.problems.isEmpty { throw RequestValidationError(reader.problems) }
        return request
    }

    /// `host`, `host:port`, `[v6]:port` or `*.domain`: letters, digits, `.-_*:[]` only, a port that is a number.
    static func isHostPattern(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 253,
            text.allSatisfy({ $0.isLetter || $0.isNumber || ".-_*:[]".contains($0) })
        else { return false }
        if let colon = text.lastIndex(of: ":"), !text.hasPrefix("["), text.filter({ $0 == ":" }).count == 1 {
            return UInt16(text[text.index(after: colon)...]) != nil && colon != text.startIndex
        }
        return true
    }

    /// The JSON form, as `decode` reads it (for clients).
    package func encoded() -> Data {
        var object: [String: JSONValue] = [
            "agents": .number(Double(agents)), "max_cost_usd": .number(maxCostUSD),
            "timeout_seconds": .number(timeoutSeconds), "max_attempts": .number(Double(maxAttempts)),
            "attempt_timeout_seconds": .number(attemptTimeoutSeconds),
            "verify_timeout_seconds": .number(verifyTimeoutSeconds),
            "stall_threshold": .number(Double(stallThreshold)), "merge_batch": .number(Double(mergeBatch)),
            "protect": .array(protect.map(JSONValue.string)), "pass_env": .array(passEnvironment.map(JSONValue.string)),
            "fallback_backends": .array(fallbackBackends.map(JSONValue.string)),
            "key_files": .array(keyFiles.map(JSONValue.string)),
            "allow_test_edits": .bool(allowTestEdits), "dry_run": .bool(dryRun),
            "allow_hosts": .array(allowHosts.map(JSONValue.string)),
            "sandbox_read": .array(sandboxRead.map(JSONValue.string)),
            "sandbox_write": .array(sandboxWrite.map(JSONValue.string)),
        ]
        let optionals: [String: String?] = [
            "repository": repository, "goal": goal, "acceptance": acceptance, "acceptance_path": acceptancePath,
            "verify": verify, "backend": backend, "agent_command": agentCommand, "agent_binary": agentBinary,
            "agent_base_url": agentBaseURL,
            "scenario": scenario, "critic": critic, "critic_url": criticURL, "critic_model": criticModel,
            "critic_binary": criticBinary,
            "model": model, "target_branch": targetBranch, "base": base, "sandbox": sandbox, "network": network,
            "verify_network": verifyNetwork,
        ]
        for (key, value) in optionals { if let value { object[key] = .string(value) } }
        if let maxTurns { object["max_turns"] = .number(Double(maxTurns)) }
        if let rateLimitBackoffSeconds { object["rate_limit_backoff_seconds"] = .number(rateLimitBackoffSeconds) }
        if let rateLimitMaxWaitSeconds { object["rate_limit_max_wait_seconds"] = .number(rateLimitMaxWaitSeconds) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(JSONValue.object(object))) ?? Data("{}".utf8)
    }
}

/// A request body that does not fit the schema: each problem names its field.
package struct RequestValidationError: Error, Sendable, CustomStringConvertible {
    package var problems: [ErrorDTO.FieldError]

    package init(_ problems: [ErrorDTO.FieldError]) {
        self.problems = problems
    }

    package var description: String {
        problems.map { "\($0.field) \($0.message)" }.joined(separator: "; ")
    }
}

/// Reads typed fields out of a JSON object, collecting a problem per bad field instead of stopping at the first.
private struct FieldReader {
    let object: [String: JSONValue]
    var problems: [ErrorDTO.FieldError] = []

    mutating func fail(_ field: String, _ message: String) {
        problems.append(.init(field: field, message: message))
    }

    private func present(_ name: String) -> JSONValue? {
        guard let value = object[name], value != .null else { return nil }
        return value
    }

    mutating func string(_ name: String, maxLength: Int = 4096, oneOf allowed: [String]? = nil) -> String? {
        guard let value = present(name) else { return nil }
        guard case .string(let text) = value else {
            fail(name, "must be a string")
            return nil
        }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            fail(name, "must not be empty")
        } else if text.utf8.count > maxLength {
            fail(name, "must be at most \(maxLength) bytes")
        } else if let allowed, !allowed.contains(text) {
            fail(name, "must be one of \(allowed.joined(separator: ", "))")
        } else {
            return text
        }
        return nil
    }

    mutating func integer(_ name: String, in range: ClosedRange<Int>, uncappable: Bool = false) -> Int? {
        guard let value = present(name) else { return nil }
        guard case .number(let number) = value, number.rounded() == number, abs(number) < 1e15 else {
            fail(name, "must be an integer")
            return nil
        }
        let integer = Int(number)
        if uncappable && integer == -1 { return -1 }
        guard range.contains(integer) else {
            fail(
                name,
                "must be \(uncappable ? "-1 (uncapped) or " : "")between \(range.lowerBound) and \(range.upperBound)"
            )
            return nil
        }
        return integer
    }

    mutating func number(_ name: String, uncappable: Bool = false, minimum: Double) -> Double? {
        guard let value = present(name) else { return nil }
        guard case .number(let number) = value, number.isFinite else {
            fail(name, "must be a number")
            return nil
        }
        if uncappable && number == -1 { return -1 }
        guard number >= minimum else {
            fail(name, "must be \(uncappable ? "-1 (uncapped) or " : "")at least \(JSONValue.number(minimum))")
            return nil
        }
        return number
    }

    mutating func boolean(_ name: String) -> Bool? {
        guard let value = present(name) else { return nil }
        guard case .bool(let flag) = value else {
            fail(name, "must be true or false")
            return nil
        }
        return flag
    }

    mutating func strings(_ name: String) -> [String]? {
        guard let value = present(name) else { return nil }
        guard case .array(let items) = value else {
            fail(name, "must be an array of strings")
            return nil
        }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item, !text.isEmpty else {
                fail("\(name)[\(index)]", "must be a non-empty string")
                continue
            }
            result.append(text)
        }
        return result
    }
}
