import FlotillaCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A language-model server on loopback that answers from a script, in order, and keeps every request body:
/// OpenAI's `/v1/chat/completions` and Anthropic's `/v1/messages`.
package actor ScriptedModelServer {
    package struct Reply: Sendable {
        package var status: Int
        package var body: String
        package var headers: [String: String]

        package init(status: Int = 200, body: String, headers: [String: String] = [:]) {
            self.status = status
            self.body = body
            self.headers = headers
        }

        /// A chat completion whose message content is `content`.
        package static func chat(
            _ content: String,
            promptTokens: Int = 120,
            cachedTokens: Int = 20,
            completionTokens: Int = 80
        )
            -> Reply
        {
            let message: JSONValue = .object([
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1_795_000_000, "model": "stub",
                "choices": .array([
                    .object([
                        "index": 0, "finish_reason": "stop",
                        "message": .object(["role": "assistant", "content": .string(content)]),
                    ])
                ]),
                "usage": .object([
                    "prompt_tokens": .number(Double(promptTokens)),
                    "prompt_tokens_details": .object(["cached_tokens": .number(Double(cachedTokens))]),
                    "completion_tokens": .number(Double(completionTokens)),
                    "total_tokens": .number(Double(promptTokens + completionTokens)),
                ]),
            ])
            return Reply(body: String(decoding: (try? JSONEncoder().encode(message)) ?? Data(), as: UTF8.self))
        }

        /// A chat completion that calls the `bash` tool with `command` (mini-swe-agent's one tool).
        package static func bash(_ command: String) -> Reply {
            let arguments = String(decoding: (try? JSONEncoder().encode(["command": command])) ?? Data(), as: UTF8.self)
            let message: JSONValue = .object([
                "id": "chatcmpl-2", "object": "chat.completion", "created": 1_795_000_000, "model": "stub",
                "choices": .array([
                    .object([
                        "index": 0, "finish_reason": "tool_calls",
                        "message": .object([
                            "role": "assistant", "content": "Running a command.",
                            "tool_calls": .array([
                                .object([
                                    "id": "call_1", "type": "function",
                                    "function": .object(["name": "bash", "arguments": .string(arguments)]),
                                ])
                            ]),
                        ]),
                    ])
                ]),
                "usage": .object(["prompt_tokens": 500, "completion_tokens": 20, "total_tokens": 520]),
            ])
            return Reply(body: String(decoding: (try? JSONEncoder().encode(message)) ?? Data(), as: UTF8.self))
        }
    }

    private var replies: [Reply]
    package private(set) var requests: [String] = []

    private init(replies: [Reply]) {
        self.replies = replies
    }

    private func next(_ body: String) -> Reply {
        requests.append(body)
        guard !replies.isEmpty else {
            return Reply(status: 500, body: #"{"error":{"message":"no more scripted replies"}}"#)
        }
        return replies.removeFirst()
    }

    /// Serves `replies` on a free loopback port while `body` runs with the server and its port.
    package static func serving<T: Sendable>(
        _ replies: [Reply],
        _ body: @Sendable (ScriptedModelServer, Int) async throws -> T
    ) async throws -> T {
        let server = ScriptedModelServer(replies: replies)
        let router = Router()
        for path in ["/v1/chat/completions", "/v1/messages"] {
            router.post(RouterPath(stringLiteral: path)) { request, _ -> Response in
                var request = request
                let buffer = try await request.collectBody(upTo: 10 << 20)
                let reply = await server.next(String(buffer: buffer))
                var response = Response(
                    status: .init(code: reply.status),
                    headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: reply.body))
                )
                for (name, value) in reply.headers {
                    if let field = HTTPField.Name(name) { response.headers[field] = value }
                }
                return response
            }
        }
        return try await serveOnLoopback(router, name: "scripted model server") { port in
            try await body(server, port)
        }
    }
}
