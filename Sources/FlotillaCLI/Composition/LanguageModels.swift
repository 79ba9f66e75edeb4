import ArgumentParser
import FlotillaCore
import FlotillaLLM
import Foundation

/// The HTTP APIs a planner or critic can be.
enum LanguageModelAPI: String, ExpressibleByArgument, CaseIterable, Sendable {
    case openai, anthropic
}

/// Builds the language model of a role (planner, critic) from its settings and the keys found.
enum LanguageModels {
    /// The model the settings name; nil when none is configured.
    ///
    /// `role` names the flags in messages.
    static func make(
        role: String,
        api: LanguageModelAPI?,
        url: String?,
        model: String?,
        keys: APIKeys,
        pricing: PricingTable
    ) throws -> (any LanguageModel)? {
        switch api {
        case .anthropic?:
            guard let key = keys.value("ANTHROPIC_API_KEY") else {
                throw InputError(
                    "--\(role) anthropic needs ANTHROPIC_API_KEY in the environment or keys.anthropic in config.toml"
                )
            }
            return AnthropicModel(
                baseURL: try url.map { try parse($0, role: role) },
                apiKey: key,
                model: model ?? "claude-sonnet-4-5",
                pricing: pricing
            )
        case .openai?, nil:
            let key = keys.value("OPENAI_API_KEY")
            if let url {
                return OpenAICompatibleModel(
                    baseURL: try parse(url, role: role),
                    apiKey: key,
                    model: model ?? "default",
                    pricing: pricing
                )
            }
            guard api == .openai else { return nil }
            guard let key else {
                throw InputError("--\(role) openai needs --\(role)-url, or OPENAI_API_KEY (environment or keys.openai)")
            }
            return OpenAICompatibleModel(
                baseURL: try parse("https://api.openai.com/v1", role: role),
                apiKey: key,
                model: model ?? "gpt-5",
                pricing: pricing
            )
        }
    }

    /// The critic a mission's options name, if any, with the keys and prices of `configuration`.
    static func critic(
        _ options: MissionRunOptions,
        configuration: Configuration,
        environment: [String: String]
    ) throws -> (any LanguageModel)? {
        try make(
            role: "critic",
            api: options.criticAPI.flatMap(LanguageModelAPI.init(rawValue:)),
            url: options.criticURL,
            model: options.criticModel,
            keys: configuration.apiKeys(environment: environment),
            pricing: configuration.pricing
        )
    }

    private static func parse(_ text: String, role: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme) else {
            throw InputError("--\(role)-url \(text) is not an http(s) URL")
        }
        return url
    }
}
