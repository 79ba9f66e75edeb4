import AsyncHTTPClient
import FlotillaCore
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// POSTs JSON to a model's server over AsyncHTTPClient: a deadline per request, and retries with backoff on 429 and
/// 5xx that honour `Retry-After`.
struct HTTPTransport: Sendable {
    var timeout: Duration = .seconds(120)
    var retries = 3
    var backoff: Duration = .milliseconds(500)
    /// The most an answer may hold.
    var bodyLimit = 32 << 20

    struct Reply {
        var status: Int
        var body: Data
    }

    /// Posts `body`; `retryingServerErrors: false` hands a 500 back at once (it may mean "not supported").
    func post(
        _ url: URL,
        headers: [String: String],
        body: Data,
        retryingServerErrors: Bool = true
    ) async throws(LanguageModelError) -> Reply {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(data: body))
        var attempt = 0
        while true {
            let status: Int
            let data: Data
            let retryAfter: String?
            do {
                let response = try await HTTPClient.shared.execute(
                    request,
                    timeout: .nanoseconds(Int64(timeout.seconds * 1e9))
                )
                status = Int(response.status.code)
                retryAfter = response.headers.first(name: "Retry-After")
                data = Data(buffer: try await response.body.collect(upTo: bodyLimit))
            } catch {
                guard attempt < retries, !(error is CancellationError) else {
                    throw .transport("\(url.absoluteString): \(error)")
                }
                attempt += 1
                try? await Task.sleep(for: backoff * (1 << (attempt - 1)))
                continue
            }
            let retryable =
                status == 429 || status == 529
                || ((500...599).contains(status) && status != 501 && (retryingServerErrors || status != 500))
            guard retryable && attempt < retries else { return Reply(status: status, body: data) }
            attempt += 1
            // The server's own wait when it gives one (seconds), else exponential.
            let stated = retryAfter.flatMap(Double.init)
            let wait = stated.map { Duration.seconds(bounded: $0) } ?? backoff * (1 << (attempt - 1))
            try? await Task.sleep(for: min(wait, .seconds(120)))
        }
    }
}

/// Reads servers' error bodies.
enum AnswerCheck {
    static func errorMessage(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let error = object["error"] as? [String: Any], let message = error["message"] as? String {
                return message
            }
            if let message = object["error"] as? String { return message }
            if let message = object["message"] as? String { return message }
        }
        return String(decoding: body.prefix(300), as: UTF8.self)
    }
}
