import FlotillaCore
import Foundation
import Synchronization

/// Any server speaking OpenAI's Chat Completions: OpenAI, Ollama, vLLM, llama.cpp, LM Studio, OpenRouter.
///
/// Asks for `response_format: json_schema`; a server that refuses it (llama.cpp's answers HTTP 500) is asked
/// again with `{"type": "json_object", "schema": …}`, and remembered. Every answer is checked locally.
package final class OpenAICompatibleModel: LanguageModel {
    private enum Mode {
        case jsonSchema, jsonObject
    }

    private let baseURL: URL
    private let apiKey: String?
    private let model: String
    private let pricing: PricingTable
    private let sampling: Sampling
    private let transport: HTTPTransport
    private let mode = Mutex(Mode.jsonSchema)

    /// Creates a client of the server whose API root is `baseURL` (like `http://127.0.0.1:8000/v1`).
    package init(
        baseURL: URL,
        apiKey: String?,
        model: String,
        pricing: PricingTable = .builtIn,
        sampling: Sampling = Sampling()
    ) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.model = model
        self.pricing = pricing
        self.sampling = sampling
        self.transport = HTTPTransport()
    }

    package var label: String { "openai-compatible \(baseURL.absoluteString), model \(model)" }

    package func answer(_ request: StructuredRequest) async throws -> StructuredAnswer {
        let url = baseURL.appendingPathComponent("chat/completions")
        var headers: [String: String] = [:]
        if let apiKey { headers["Authorization"] = "Bearer \(apiKey)" }
        var current = mode.withLock { $0 }
        while true {
            // In json_schema mode a 500 may be llama.cpp refusing the format: it comes back at once, for the fallback.
            let reply = try await transport.post(
                url,
                headers: headers,
                body: try body(request, mode: current),
                retryingServerErrors: current == .jsonObject
            )
            if current == .jsonSchema && [400, 422, 500].contains(reply.status)
                && Self.refusesSchema(AnswerCheck.errorMessage(reply.body), status: reply.status)
            {
                current = .jsonObject
                mode.withLock { $0 = .jsonObject }
                continue
            }
            guard (200..<300).contains(reply.status) else {
                throw LanguageModelError.http(status: reply.status, message: AnswerCheck.errorMessage(reply.body))
            }
            return try parse(reply.body, schema: request.schema)
        }
    }

    /// Whether an error says the server does not take `json_schema` (llama.cpp: HTTP 500 on the chat path).
    private static func refusesSchema(_ message: String, status: Int) -> Bool {
        let lowered = message.lowercased()
        return status == 500 || lowered.contains("response_format") || lowered.contains("json_schema")
    }

    private func body(_ request: StructuredRequest, mode: Mode) throws -> Data {
        var messages: [JSONValue] = [.object(["role": "system", "content": .string(request.system)])]
        for message in request.messages {
            messages.append(.object(["role": .string(message.role.rawValue), "content": .string(message.text)]))
        }
        let format: JSONValue =
            switch mode {
            case .jsonSchema:
                .object([
                    "type": "json_schema",
                    "json_schema": .object([
                        "name": .string(request.schemaName), "schema": request.schema, "strict": true,
                    ]),
                ])
            case .jsonObject: .object(["type": "json_object", "schema": request.schema])
            }
        let body: JSONValue = .object(
            [
                "model": .string(model), "messages": .array(messages), "response_format": format,
                "max_tokens": .number(Double(request.maxTokens)), "stream": false,
            ].merging(sampling.openAIFields) { $1 }
        )
        return try JSONEncoder().encode(body)
    }

    private func parse(_ data: Data, schema: JSONValue) throws -> StructuredAnswer {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let choice = (object["choices"] as? [[String: Any]])?.first,
            let message = choice["message"] as? [String: Any]
        else {
            throw LanguageModelError.invalidAnswer(
                text: String(decoding: data.prefix(500), as: UTF8.self),
                problems: ["no choices[0].message"]
            )
        }
        if let refusal = message["refusal"] as? String, !refusal.isEmpty { throw LanguageModelError.refused(refusal) }
        let text = message["content"] as? String ?? ""
        let usage = object["usage"] as? [String: Any] ?? [:]
        let prompt = Usage.tokens((usage["prompt_tokens"] as? NSNumber)?.doubleValue)
        let cached = Usage.tokens(
            ((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? NSNumber)?.doubleValue
        )
        var tokens = Usage(
            inputTokens: max(0, prompt - cached),
            outputTokens: Usage.tokens((usage["completion_tokens"] as? NSNumber)?.doubleValue),
            cacheReadTokens: cached
        )
        let answeredModel = object["model"] as? String ?? model
        tokens.costUSD = pricing.cost(of: tokens, model: answeredModel) ?? 0
        tokens = tokens.bounded
        let value = try StructuredAnswer.checkedValue(from: text, schema: schema, usage: tokens)
        return StructuredAnswer(value: value, text: text, usage: tokens, model: answeredModel)
    }
}
