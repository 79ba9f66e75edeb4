import Foundation

/// One message of a conversation with a language model.
package struct ModelMessage: Sendable, Equatable {
    package enum Role: String, Sendable {
        case user, assistant
    }

    package var role: Role
    package var text: String

    package init(_ role: Role, _ text: String) {
        self.role = role
        self.text = text
    }
}

/// A request for an answer shaped by a JSON Schema (planner, critic).
package struct StructuredRequest: Sendable, Equatable {
    package var system: String
    package var messages: [ModelMessage]
    /// A name for the schema (`[a-zA-Z0-9_-]`, at most 64 characters, as OpenAI requires).
    package var schemaName: String
    package var schema: JSONValue
    package var maxTokens: Int

    package init(system: String, messages: [ModelMessage], schemaName: String, schema: JSONValue, maxTokens: Int = 4096)
    {
        self.system = system
        self.messages = messages
        self.schemaName = schemaName
        self.schema = schema
        self.maxTokens = maxTokens
    }
}

/// An answer that parsed as JSON and passed the schema, checked locally whatever the server promised.
package struct StructuredAnswer: Sendable, Equatable {
    package var value: JSONValue
    /// The answer as the model wrote it (for repair conversations).
    package var text: String
    package var usage: Usage
    package var model: String

    package init(value: JSONValue, text: String, usage: Usage, model: String) {
        self.value = value
        self.text = text
        self.usage = usage
        self.model = model
    }
}

extension StructuredAnswer {
    /// The JSON of a model's answer, checked against `schema` whatever the model promised.
    ///
    /// An answer that does not fit carries `usage`, what it cost.
    package static func checkedValue(
        from text: String,
        schema: JSONValue,
        usage: Usage
    ) throws(LanguageModelError) -> JSONValue {
        // Some servers wrap JSON in a Markdown fence even in JSON mode.
        var body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if body.hasPrefix("```") {
            body = body.split(separator: "\n").dropFirst().joined(separator: "\n")
            if body.hasSuffix("```") { body = String(body.dropLast(3)) }
        }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body.utf8)) else {
            throw .invalidAnswer(text: text, problems: ["the answer is not valid JSON"], usage: usage)
        }
        let problems = JSONSchemaCheck.problems(value, against: schema)
        guard problems.isEmpty else { throw .invalidAnswer(text: text, problems: problems, usage: usage) }
        return value
    }
}

/// A language model Flotilla asks for structured answers: an HTTP API or an agent CLI's structured mode.
package protocol LanguageModel: Sendable {
    /// Where answers come from, for messages (`openai-compatible http://127.0.0.1:8000/v1, model stub`).
    var label: String { get }
    func answer(_ request: StructuredRequest) async throws -> StructuredAnswer
}

/// Why a model gave no usable answer.
package enum LanguageModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with an error status (after retries, for 429 and 5xx).
    case http(status: Int, message: String)
    /// No answer arrived (connection refused, timeout).
    case transport(String)
    /// An answer arrived but is not JSON, or not of the schema's shape; it was paid for all the same.
    case invalidAnswer(text: String, problems: [String], usage: Usage = .zero)
    case refused(String)
    /// A command-line tool in its structured mode (`claude -p --json-schema`) failed or printed no answer.
    case tool(String)

    package var description: String {
        switch self {
        case .http(let status, let message): "the model's server answered HTTP \(status): \(message)"
        case .transport(let detail): "no answer from the model's server: \(detail)"
        case .invalidAnswer(_, let problems, _):
            "the answer does not fit the schema: \(problems.joined(separator: "; "))"
        case .refused(let reason): "the model refused: \(reason)"
        case .tool(let detail): "the model's command-line tool failed: \(detail)"
        }
    }
}
