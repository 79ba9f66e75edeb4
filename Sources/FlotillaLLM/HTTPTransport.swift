import AsyncHTTPClient
import FlotillaCore
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// POSTs JSON to a model's server over AsyncHTTPClient: a deadline per request, and retries with backoff on 429 and
/// 5xx that honour `Retry-After`.
struct HTTPTransport: Sendable {
    /// How long one answer may take from a server elsewhere.
    var timeout: Duration = .seconds(120)
    /// How long one answer may take from a server on this machine: a small model on a few busy cores can take
    /// minutes to write a long answer, and it sends nothing until it is done.
    var localTimeout: Duration = .seconds(900)
    var retries = 3
    var backoff: Duration = .milliseconds(500)
    /// The most an answer may hold.
    var bodyLimit = 32 << 20
    /// The clock retries wait on.
    var clock: any Clock<Duration> = ContinuousClock()

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
        let host = url.host ?? ""
        let local = host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
        let deadline = local ? max(timeout, localTimeout) : timeout
        var attempt = 0
        while true {
            let status: Int
            let data: Data
            let retryAfter: String?
            do {
                let response = try await Self.client.execute(
                    request,
                    timeout: .nanoseconds(Int64(deadline.seconds * 1e9))
                )
                status = Int(response.status.code)
                retryAfter = response.headers.first(name: "Retry-After")
                data = Data(buffer: try await response.body.collect(upTo: bodyLimit))
            } catch {
                // A deadline that passed is not retried: the same question would take as long again.
                let timedOut = (error as? HTTPClientError) == .deadlineExceeded
                guard attempt < retries, !timedOut, !(error is CancellationError) else {
                    throw .transport(
                        "\(url.absoluteString): \(timedOut ? "no answer within \(deadline.shortDescription)" : "\(error)")"
                    )
                }
                attempt += 1
                try? await clock.sleep(for: backoff * (1 << (attempt - 1)))
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
            try? await clock.sleep(for: min(wait, .seconds(120)))
        }
    }
}

extension HTTPTransport {
    /// The client of every model call, for as long as the process lives.
    ///
    /// The deadline of each request bounds a call, not a read timeout: the shared client's 90 s would end a local
    /// model's long answer, which arrives in one piece at the end.
    static let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: nil))
    )
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
