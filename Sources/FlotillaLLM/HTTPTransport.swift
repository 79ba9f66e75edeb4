import FlotillaCore
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs JSON to a model's server: timeouts, and retries with backoff on 429 and 5xx that honour `Retry-After`.
struct HTTPTransport: Sendable {
    var timeout: Duration = .seconds(120)
    var retries = 3
    var backoff: Duration = .milliseconds(500)

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
        var request = URLRequest(url: url, timeoutInterval: timeout.seconds)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        var attempt = 0
        while true {
            let data: Data
            let response: HTTPURLResponse
            do {
                let (received, answer) = try await URLSession.shared.data(for: request)
                guard let http = answer as? HTTPURLResponse else {
                    throw LanguageModelError.transport("not an HTTP answer from \(url.absoluteString)")
                }
                data = received
                response = http
            } catch let error as LanguageModelError {
                throw error
            } catch {
                guard attempt < retries else {
                    throw .transport("\(url.absoluteString): \(error.localizedDescription)")
                }
                attempt += 1
                try? await Task.sleep(for: backoff * (1 << (attempt - 1)))
                continue
            }
            let status = response.statusCode
            let retryable =
                status == 429 || status == 529
                || ((500...599).contains(status) && status != 501 && (retryingServerErrors || status != 500))
            guard retryable && attempt < retries else { return Reply(status: status, body: data) }
            attempt += 1
            // The server's own wait when it gives one (seconds), else exponential.
            let stated = response.value(forHTTPHeaderField: "Retry-After").flatMap(Double.init)
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
