import ArgumentParser
import FlotillaAPI
import FlotillaAgents
import FlotillaCore
import FlotillaService
import FlotillaSystem
import Foundation

/// What `flotilla init` writes, from the flags and the wizard's questions.
struct Answers {
    var backend: BackendName?
    var model: String?
    var agentBinary: String?
    var agentCommand: String?
    var agentBaseURL: String?
    var maxTurns: Int?
    var maxOutputTokens: Int?
    var agentArgs: [String] = []
    var fallbacks: [BackendName]
    var planner: LanguageModelAPI?
    var plannerURL: String?
    var plannerModel: String?
    var plannerBinary: String?
    var critic: LanguageModelAPI?
    var criticURL: String?
    var criticModel: String?
    var criticBinary: String?
    /// Keys to keep, by `[keys]` name.
    var keys: [String: String] = [:]
    var verify: String?
    var agents: Int?
    var maxCost: Double?
    var protect: [String]

    /// A file to write: the user's or the project's.
    struct File {
        var role: String
        var path: String
        var text: String
        /// Readable by its owner only (it may hold keys).
        var `private`: Bool
    }

    init(flags: Flotilla.Init) throws {
        let agent = flags.agent
        backend = agent.backend
        model = agent.model
        agentBinary = agent.agentBinary.map(Self.absolute)
        agentCommand = agent.agentCommand
        agentBaseURL = agent.agentBaseURL
        maxTurns = agent.maxTurns
        maxOutputTokens = agent.maxOutputTokens
        fallbacks = agent.fallbackBackend
        let planning = flags.planner
        planner = planning.planner ?? (planning.plannerURL != nil ? .openai : nil)
        plannerURL = planning.plannerURL
        plannerModel = planning.plannerModel
        plannerBinary = planning.plannerBinary.map(Self.absolute)
        let criticism = flags.critic
        critic = criticism.critic ?? (criticism.criticURL != nil ? .openai : nil)
        criticURL = criticism.criticURL
        criticModel = criticism.criticModel
        criticBinary = criticism.criticBinary.map(Self.absolute)
        verify = flags.verify
        agents = flags.agents
        maxCost = flags.maxCost
        protect = flags.protect
        var stdinTaken = false
        for given in flags.keys {
            let parts = given.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, APIKeys.variable(forConfigKey: parts[0]) != nil else {
                let known = APIKeys.kinds.map(\.configKey).joined(separator: ", ")
                throw FlotillaError.invalid(
                    "--key \(parts.first ?? given)=…: expected PROVIDER=VALUE with PROVIDER one of \(known)"
                )
            }
            var value = parts[1]
            if value == "-" {
                guard flags.nonInteractive else {
                    throw FlotillaError.invalid(
                        "--key \(parts[0])=- reads stdin, which the questions need; add --non-interactive"
                    )
                }
                guard !stdinTaken else { throw FlotillaError.invalid("--key: only one key can be read from stdin") }
                stdinTaken = true
                value = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                    .trimmingWhitespace()
            }
            guard !value.isEmpty else { throw FlotillaError.invalid("--key \(parts[0]): the key is empty") }
            keys[parts[0]] = value
        }
        if let backend, fallbacks.contains(backend) {
            throw FlotillaError.invalid("--fallback-backend \(backend.rawValue) is the backend itself")
        }
        if !fallbacks.isEmpty, backend == .command {
            throw FlotillaError.invalid("--fallback-backend needs an agent CLI backend to fall back from, not command")
        }
    }

    /// A path as given, made absolute against the working directory (config.toml is read from anywhere).
    private static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
    }

    /// The files these answers make, each checked by reading it back as Flotilla will.
    func render(root: String?, userPath: String) throws -> [File] {
        var user = TOMLWriter(header: ["Flotilla: your agent, models and keys. Written by `flotilla init`."])
        var agent: [(key: String, value: JSONValue)] = []
        if let backend { agent.append(("backend", .string(backend.rawValue))) }
        if let model { agent.append(("model", .string(model))) }
        if let agentBinary { agent.append(("binary", .string(agentBinary))) }
        if let agentCommand { agent.append(("command", .string(agentCommand))) }
        if let agentBaseURL { agent.append(("base_url", .string(agentBaseURL))) }
        if let maxTurns { agent.append(("max_turns", .number(Double(maxTurns)))) }
        if let maxOutputTokens { agent.append(("max_output_tokens", .number(Double(maxOutputTokens)))) }
        if !agentArgs.isEmpty { agent.append(("args", .array(agentArgs.map(JSONValue.string)))) }
        if !fallbacks.isEmpty { agent.append(("fallback", .array(fallbacks.map { .string($0.rawValue) }))) }
        user.table("agent", agent)
        for (name, api, url, model, binary) in [
            ("planner", planner, plannerURL, plannerModel, plannerBinary),
            ("critic", critic, criticURL, criticModel, criticBinary),
        ] {
            var entries: [(key: String, value: JSONValue)] = []
            if let api { entries.append(("api", .string(api.rawValue))) }
            if let url { entries.append(("url", .string(url))) }
            if let model { entries.append(("model", .string(model))) }
            if let binary { entries.append(("binary", .string(binary))) }
            user.table(name, entries)
        }
        user.table("keys", keys.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        var files = [File(role: "user_config", path: userPath, text: user.text, private: true)]

        var run: [(key: String, value: JSONValue)] = []
        if let verify { run.append(("verify", .string(verify))) }
        if let agents { run.append(("agents", .number(Double(agents)))) }
        if let maxCost { run.append(("max_cost_usd", .number(maxCost))) }
        if !protect.isEmpty { run.append(("protect", .array(protect.map(JSONValue.string)))) }
        if !run.isEmpty {
            guard let root else {
                throw FlotillaError.invalid(
                    "--verify, --agents, --max-cost and --protect are a project's: run init inside a git repository, or pass --repo"
                )
            }
            var project = TOMLWriter(header: ["Flotilla: this project's settings. Written by `flotilla init`."])
            project.table("run", run)
            files.append(
                File(
                    role: "project_config",
                    path: (root as NSString).appendingPathComponent("flotilla.toml"),
                    text: project.text,
                    private: false
                )
            )
        }
        for file in files {
            do {
                _ = try ConfigurationFile.parse(
                    file.text,
                    file: file.path,
                    scope: file.role == "user_config" ? .user : .project
                )
            } catch {
                throw FlotillaError.invalid("init would write an invalid file (\(error)); nothing was written")
            }
        }
        return files
    }

    /// The key variables the chosen tools and roles read, one per provider (`ANTHROPIC_API_KEY` stands for
    /// `CLAUDE_CODE_OAUTH_TOKEN` too, `OPENAI_API_KEY` for `CODEX_API_KEY`, `GEMINI_API_KEY` for `GOOGLE_API_KEY`).
    var neededKeys: [String] {
        var variables: [String] = []
        for backend in [backend].compactMap(\.self) + fallbacks {
            variables += backend.dialect?.keyVariables(model: model, options: AgentCLIOptions()) ?? []
        }
        for (api, url) in [(planner, plannerURL), (critic, criticURL)] {
            switch api {
            case .anthropic?, .claude?: variables.append("ANTHROPIC_API_KEY")
            case .codex?: variables.append("OPENAI_API_KEY")
            case .openai? where url == nil: variables.append("OPENAI_API_KEY")
            case .openai?, nil: break
            }
        }
        let family = [
            "CLAUDE_CODE_OAUTH_TOKEN": "ANTHROPIC_API_KEY", "CODEX_API_KEY": "OPENAI_API_KEY",
            "GOOGLE_API_KEY": "GEMINI_API_KEY",
        ]
        var seen: [String] = []
        for variable in variables.map({ family[$0] ?? $0 }) where !seen.contains(variable) { seen.append(variable) }
        return seen
    }
}
