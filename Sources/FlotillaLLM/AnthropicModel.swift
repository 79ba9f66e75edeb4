import FlotillaCore
import Foundation

/// Anthropic's Messages API, with the answer forced through a tool whose input schema is the request's (works on
/// every model, unlike native structured outputs).
package struct AnthropicModel: LanguageModel {
    private let baseURL: URL
    private let apiKey: String
    private let model: String
    private let pricing: PricingTable
    private let sampling: Sampling
    private let transport = HTTPTransport()

    /// Creates a client of the API at `baseURL` (default `https://api.anthropic.com`; `/v1/messages` is appended).
    package init(
        baseURL: URL?,
        apiKey: String,
        model: String,
        pricing: PricingTable = .builtIn,
        sampling: Sampling = Sampling()
    ) {
        self.baseURL = baseURL ?? Self.defaultBaseURL
        self.apiKey = apiKey
        self.model = model
        self.pricing = pricing
        self.sampling = sampling
    }

    private static let defaultBaseURL: URL = {
        var components = URLComponents()
        components.scheme = "https"
        components.host = "api.anthropic.com"
        return components.url ?? URL(fileURLWithPath: "/")
    }()

    package var label: String { "anthropic \(baseURL.absoluteString), model \(model)" }

    package func answer(_ request: StructuredRequest) async throws -> StructuredAnswer {
        // Anthropic's Messages API takes temperature, top_p and top_k, and no seed.
        var fields = sampling.openAIFields
        fields["seed"] = nil
        let body: JSONValue = .object(
            fields.merging([
                "model": .string(model), "max_tokens": .number(Double(request.maxTokens)),
                "system": .string(request.system),
                "messages": .array(
                    request.messages.map { .object(["role": .string($0.role.rawValue), "content": .string($0.text)]) }
                ),
                "tools": .array([
                    .object([
                        "name": .string(request.schemaName), "description": "Give the answer.",
                        "input_schema": request.schema,
                    ])
                ]),
                "tool_choice": .object(["type": "tool", "name": .string(request.schemaName)]),
            ]) { $1 }
        )
        let reply = try await transport.post(
            baseURL.appendingPathComponent("v1/messages"),
            headers: ["x-api-key": apiKey, "anthropic-version": "2023-06-01"],
            body: try JSONEncoder().encode(body)
        )
        guard (200..<300).contains(reply.status) else {
            throw LanguageModelError.http(status: reply.status, message: AnswerCheck.errorMessage(reply.body))
        }
        guard let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any],
            let content = object["content"] as? [[String: Any]]
        else {
            throw LanguageModelError.invalidAnswer(
                text: String(decoding: reply.body.prefix(500), as: UTF8.self),
                problems: ["no content blocks"]
            )
        }
        if object["stop_reason"] as? String == "refusal" { throw LanguageModelError.refused("stop_reason refusal") }
        guard let input = content.first(where: { $0["type"] as? String == "tool_use" })?["input"],
            let data = try? JSONSerialization.data(withJSONObject: input)
        else {
            let text = content.compactMap { $0["text"] as? String }.joined()
            throw LanguageModelError.invalidAnswer(text: text, problems: ["the answer used no tool"])
        }
        let text = String(decoding: data, as: UTF8.self)
        let usage = object["usage"] as? [String: Any] ?? [:]
        var tokens = Usage(
            inputTokens: Usage.tokens((usage["input_tokens"] as? NSNumber)?.doubleValue),
            outputTokens: Usage.tokens((usage["output_tokens"] as? NSNumber)?.doubleValue),
            cacheReadTokens: Usage.tokens((usage["cache_read_input_tokens"] as? NSNumber)?.doubleValue),
            cacheWriteTokens: Usage.tokens((usage["cache_creation_input_tokens"] as? NSNumber)?.doubleValue)
        )
        tokens.costUSD = pricing.cost(of: tokens, model: object["model"] as? String ?? model) ?? 0
        tokens = tokens.bounded
        let value = try StructuredAnswer.checkedValue(from: text, schema: request.schema, usage: tokens)
        return StructuredAnswer(value: value, text: text, usage: tokens, model: object["model"] as? String ?? model)
    }
}
