import ArgumentParser
import FlotillaAPI
import FlotillaAgents
import FlotillaCore
import FlotillaLLM
import FlotillaService
import FlotillaSystem
import Foundation

/// The questions `flotilla init` asks for what the flags leave out, one line of stdin each.
struct Wizard {
    let composition: Composition
    let root: String?
    private let terminal = isatty(STDIN_FILENO) == 1

    init(composition: Composition, root: String?) {
        self.composition = composition
        self.root = root
    }

    mutating func complete(_ answers: inout Answers) async throws {
        let installed = BackendName.allCases.filter { backend in
            guard let program = backend.dialect?.program else { return false }
            return
                (try? ExecutableLocator.locate(
                    program,
                    environment: composition.childEnvironment(),
                    workingDirectory: FileManager.default.currentDirectoryPath
                )) != nil
        }
        if answers.backend == nil {
            let offered = installed.map(\.rawValue) + ["command"]
            answers.backend = try ask(
                "Agent backend (\(installed.isEmpty ? "no agent CLI found on PATH" : "installed: \(installed.map(\.rawValue).joined(separator: ", "))"); or command)",
                default: offered[0]
            ) { answer in
                guard let backend = BackendName(rawValue: answer), backend != .simulate else {
                    throw FlotillaError.invalid(
                        "\(answer) is not one of \(BackendName.allCases.filter { $0 != .simulate }.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                return backend
            }
        }
        if answers.backend == .command, answers.agentCommand == nil {
            answers.agentCommand = try ask("Command each attempt runs (the prompt is on its stdin)") { answer in
                guard !answer.isEmpty else {
                    throw FlotillaError.invalid("the command is needed for the command backend")
                }
                return answer
            }
        }
        if answers.agentBaseURL == nil, answers.backend == .aider || answers.backend == .mini {
            try await askLocalServer(&answers)
        }
        if answers.model == nil, answers.backend != .command {
            answers.model = try optional(
                "Model for \(answers.backend?.rawValue ?? "the agent") (empty: the tool's default)"
            )
        }
        if answers.fallbacks.isEmpty, answers.backend != .command {
            let primary = answers.backend
            answers.fallbacks = try ask(
                "Fallback agents while it is rate limited (comma-separated; empty: none)",
                default: ""
            ) { answer in
                try answer.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }.map {
                    name in
                    guard let backend = BackendName(rawValue: name), backend.dialect != nil, backend != primary else {
                        throw FlotillaError.invalid("\(name) is not another agent CLI")
                    }
                    return backend
                }
            }
        }
        for role in ["planner", "critic"] {
            let given = role == "planner" ? answers.planner : answers.critic
            guard given == nil else { continue }
            let api: LanguageModelAPI? = try ask(
                "\(role.capitalized): openai or anthropic (HTTP), claude or codex (their CLIs), or none",
                default: "none"
            ) { answer in
                if answer == "none" { return nil }
                guard let api = LanguageModelAPI(rawValue: answer) else {
                    throw FlotillaError.invalid("\(answer) is not one of \(LanguageModelAPI.names), none")
                }
                return api
            }
            guard let api else { continue }
            var url: String?
            if api == .openai {
                url = try ask("\(role.capitalized) API root (empty: https://api.openai.com/v1)", default: "") {
                    answer in
                    if answer.isEmpty { return nil }
                    guard let parsed = URL(string: answer), ["http", "https"].contains(parsed.scheme ?? "") else {
                        throw FlotillaError.invalid("\(answer) is not an http(s) URL")
                    }
                    return answer
                }
            }
            let model = try optional("\(role.capitalized) model (empty: the API's default)")
            if role == "planner" {
                (answers.planner, answers.plannerURL, answers.plannerModel) = (api, url, model)
            } else {
                (answers.critic, answers.criticURL, answers.criticModel) = (api, url, model)
            }
        }
        let found = try composition.apiKeys(root: root)
        for variable in answers.neededKeys where found.value(variable) == nil {
            guard let kind = APIKeys.kinds.first(where: { $0.variable == variable }),
                answers.keys[kind.configKey] == nil
            else { continue }
            if let key = try secret(
                "\(variable) (for \(kind.usedBy)) is not set; paste it to keep it in config.toml (empty: skip)"
            ) {
                answers.keys[kind.configKey] = key
            }
        }
        guard root != nil else { return }
        if answers.verify == nil {
            answers.verify = try optional("Verify command for this project (exit 0 passes)", default: suggestedVerify())
        }
        if answers.agents == nil {
            answers.agents = try ask("Agents working in parallel", default: "2") { answer in
                guard let count = Int(answer), (1...64).contains(count) else {
                    throw FlotillaError.invalid("\(answer) is not a number from 1 to 64")
                }
                return count
            }
        }
        if answers.maxCost == nil {
            answers.maxCost = try ask("Budget per mission in US dollars (-1: uncapped)", default: "10") { answer in
                guard let dollars = Double(answer), dollars == -1 || dollars >= 0 else {
                    throw FlotillaError.invalid("\(answer) is not an amount of dollars (or -1)")
                }
                return dollars
            }
        }
    }

    /// For aider and mini: a model served on this machine (llama.cpp, Ollama, vLLM, LM Studio).
    ///
    /// With the settings a small local model needs: aider's whole-file edits or mini's text actions, and a cap on
    /// each reply.
    private func askLocalServer(_ answers: inout Answers) async throws {
        let url = try optional(
            "A local OpenAI-compatible server for \(answers.backend?.rawValue ?? "it") (its /v1 URL, e.g. "
                + "http://127.0.0.1:8080/v1; empty: the model provider's API)"
        )
        guard let url else { return }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? "") else {
            throw FlotillaError.invalid("\(url) is not an http(s) URL")
        }
        answers.agentBaseURL = url
        if answers.model == nil {
            var served: [String] = []
            if case .success(let models) = await ModelServerProbe.models(at: url) { served = models }
            answers.model = try optional(
                "Model it serves, as openai/NAME"
                    + (served.isEmpty ? "" : " (it serves: \(served.joined(separator: ", ")))"),
                default: served.first.map { "openai/\($0)" }
            )
        }
        answers.maxOutputTokens = answers.maxOutputTokens ?? 1500
        answers.agentArgs =
            answers.backend == .aider
            ? ["--edit-format", "whole"] : ["--model-class", "litellm_textbased", "-c", "mini_textbased.yaml"]
    }

    /// Shows what will be written (keys masked) and asks to go ahead.
    static func confirm(_ files: [Answers.File]) -> Bool {
        for file in files {
            Console.err("\n\(file.path):")
            for line in file.text.split(separator: "\n", omittingEmptySubsequences: false) {
                let masked = file.private && isKeyLine(String(line))
                Console.err("  " + (masked ? String(line.prefix { $0 != "=" }) + "= '…'" : String(line)))
            }
        }
        FileHandle.standardError.write(Data("Write \(files.count == 1 ? "this file" : "these files")? [Y/n] ".utf8))
        return ["", "y", "yes"].contains((readLine() ?? "n").trimmingWhitespace().lowercased())
    }

    private static func isKeyLine(_ line: String) -> Bool {
        let key = String(line.prefix { $0 != "=" }).trimmingWhitespace()
        return APIKeys.variable(forConfigKey: key) != nil
    }

    /// What the repository's build files suggest as its test command.
    private func suggestedVerify() -> String? {
        guard let root else { return nil }
        let suggestions = [
            ("Package.swift", "swift test"), ("Cargo.toml", "cargo test"), ("go.mod", "go test ./..."),
            ("package.json", "npm test"), ("pyproject.toml", "pytest"), ("Makefile", "make test"),
        ]
        return suggestions.first { FileManager.default.fileExists(atPath: root + "/" + $0.0) }?.1
    }

    private func optional(_ question: String, default value: String? = nil) throws -> String? {
        try ask(question, default: value ?? "") { $0.isEmpty ? nil : $0 }
    }

    /// Asks until the answer reads; an empty answer is `default`.
    ///
    /// Stdin ending is an error: nothing is written.
    private func ask<T>(_ question: String, default value: String? = nil, read: (String) throws -> T) throws -> T {
        while true {
            let shown = value.map { $0.isEmpty ? "" : " [\($0)]" } ?? ""
            FileHandle.standardError.write(Data("\(question)\(shown): ".utf8))
            guard let line = readLine() else {
                throw FlotillaError.invalid(
                    "stdin ended before init had its answers; nothing was written (pass --non-interactive with flags)"
                )
            }
            let answer = line.trimmingWhitespace()
            do {
                return try read(answer.isEmpty ? (value ?? "") : answer)
            } catch let error as FlotillaError {
                // At a terminal the question is asked again; from a pipe there is nobody to ask.
                guard terminal else { throw error }
                Console.err(error.description)
            }
        }
    }

    /// Reads a key without echoing it on a terminal.
    private func secret(_ question: String) throws -> String? {
        guard terminal else { return try optional(question) }
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var quiet = original
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &original)
            Console.err("")
        }
        return try optional(question)
    }
}
