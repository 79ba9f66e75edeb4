import FlotillaAgents
import FlotillaCore
import FlotillaLLM
import FlotillaSystem
import Foundation

/// A role's settings as flags, the environment and the files give them.
package struct LanguageModelSettings: Sendable {
    package var api: LanguageModelAPI?
    package var url: String?
    package var model: String?
    /// For the CLI tools: the executable, when not the tool's name on `PATH`.
    package var binary: String?
    /// `--key-file PROVIDER=PATH` entries.
    package var keyFiles: [String] = []
    /// For the CLI tools: how each session is confined (a mission's sandbox, read-only on the repository).
    package var confinement: Confinement?
    /// How the model samples (HTTP APIs; the CLIs keep their own).
    package var sampling = Sampling()

    package init(
        api: LanguageModelAPI? = nil,
        url: String? = nil,
        model: String? = nil,
        binary: String? = nil,
        keyFiles: [String] = [],
        confinement: Confinement? = nil,
        sampling: Sampling = Sampling()
    ) {
        self.api = api
        self.url = url
        self.model = model
        self.binary = binary
        self.keyFiles = keyFiles
        self.confinement = confinement
        self.sampling = sampling
    }
}

/// Builds the language model of a role (planner, critic) from its settings and the keys found.
package enum LanguageModels {
    /// The model the settings name; nil when none is configured.
    ///
    /// `role` names the flags in messages; a CLI tool runs in `directory` (the repository).
    package static func make(
        role: String,
        _ settings: LanguageModelSettings,
        configuration: Configuration,
        composition: Composition,
        directory: String
    ) throws -> (any LanguageModel)? {
        let keys = try configuration.apiKeys(environment: composition.environment, keyFiles: settings.keyFiles)
        let pricing = configuration.pricing
        let model = settings.model
        if settings.binary != nil && settings.api != .claude && settings.api != .codex {
            throw FlotillaError.invalid("--\(role)-binary is for --\(role) claude or codex, which run a CLI")
        }
        switch settings.api {
        case .anthropic?:
            guard let key = keys.value("ANTHROPIC_API_KEY") else {
                throw FlotillaError.invalid(
                    "--\(role) anthropic needs ANTHROPIC_API_KEY in the environment or keys.anthropic in config.toml"
                )
            }
            return AnthropicModel(
                baseURL: try settings.url.map { try parse($0, role: role) },
                apiKey: key,
                model: model ?? "claude-sonnet-4-5",
                pricing: pricing,
                sampling: settings.sampling
            )
        case .claude?, .codex?:
            let tool: CLILanguageModel.Tool = settings.api == .claude ? .claude : .codex
            if settings.url != nil {
                throw FlotillaError.invalid(
                    "--\(role)-url is for HTTP APIs; --\(role) \(tool.rawValue) runs the \(tool.rawValue) CLI"
                )
            }
            let environment = composition.childEnvironment()
            let program = settings.binary ?? tool.rawValue
            do {
                _ = try ExecutableLocator.locate(program, environment: environment, workingDirectory: directory)
            } catch {
                throw FlotillaError.invalid(
                    "--\(role) \(tool.rawValue): \(program) is not installed or not on PATH; install it, or pass "
                        + "--\(role)-binary PATH"
                )
            }
            return CLILanguageModel(
                tool: tool,
                binary: settings.binary,
                model: model,
                runner: composition.processes,
                environment: environment,
                keys: keys,
                directory: directory,
                pricing: pricing,
                confinement: settings.confinement
            )
        case .openai?, nil:
            let key = keys.value("OPENAI_API_KEY")
            if let url = settings.url {
                return OpenAICompatibleModel(
                    baseURL: try parse(url, role: role),
                    apiKey: key,
                    model: model ?? "default",
                    pricing: pricing,
                    sampling: settings.sampling
                )
            }
            guard settings.api == .openai else { return nil }
            guard let key else {
                throw FlotillaError.invalid(
                    "--\(role) openai needs --\(role)-url, or OPENAI_API_KEY (environment or keys.openai)"
                )
            }
            return OpenAICompatibleModel(
                baseURL: try parse("https://api.openai.com/v1", role: role),
                apiKey: key,
                model: model ?? "gpt-5",
                pricing: pricing,
                sampling: settings.sampling
            )
        }
    }

    /// The critic a mission's fields name, if any.
    package static func critic(
        _ fields: MissionFields,
        configuration: Configuration,
        composition: Composition,
        root: String,
        confinement: Confinement? = nil
    ) throws -> (any LanguageModel)? {
        try make(
            role: "critic",
            LanguageModelSettings(
                api: fields.critic,
                url: fields.criticURL,
                model: fields.criticModel,
                binary: fields.criticBinary,
                keyFiles: fields.keyFiles ?? [],
                confinement: confinement,
                sampling: Sampling(fields)
            ),
            configuration: configuration,
            composition: composition,
            directory: root
        )
    }

    /// The architect's own model, when `--architect` names one (nil for `critic`, which plans with the critic's).
    package static func architect(
        _ fields: MissionFields,
        configuration: Configuration,
        composition: Composition,
        root: String,
        confinement: Confinement? = nil
    ) throws -> (any LanguageModel)? {
        guard let text = fields.architect, case .api(let api, let model)? = ModelChoice(text) else { return nil }
        return try make(
            role: "architect",
            LanguageModelSettings(
                api: api,
                url: fields.architectURL,
                model: model,
                keyFiles: fields.keyFiles ?? [],
                confinement: confinement,
                sampling: Sampling(fields)
            ),
            configuration: configuration,
            composition: composition,
            directory: root
        )
    }

    private static func parse(_ text: String, role: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme) else {
            throw FlotillaError.invalid("--\(role)-url \(text) is not an http(s) URL")
        }
        return url
    }
}
