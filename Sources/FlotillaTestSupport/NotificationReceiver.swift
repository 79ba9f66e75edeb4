import FlotillaCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A loopback HTTP server that receives notifications: each request gets the next scripted reply (a status, or a
/// hang until the test releases it), and every request is kept with its path, headers and body.
package actor NotificationReceiver {
    package enum Reply: Sendable {
        case status(Int)
        /// No answer until ``release()`` (or two minutes, the backstop), then 200.
        case hang
    }

    package struct Received: Sendable {
        package var path: String
        /// Header values by lowercased name.
        package var headers: [String: String]
        package var body: Data
        /// The status answered; nil while the request hangs.
        package var status: Int?
    }

    private var replies: [Reply]
    private var otherwise: Reply
    package private(set) var received: [Received] = []
    private var waiters: [(count: Int, signal: CompletionSignal)] = []
    private let released = CompletionSignal()

    private init(replies: [Reply], otherwise: Reply) {
        self.replies = replies
        self.otherwise = otherwise
    }

    /// Lets every hanging request (and any later `.hang`) answer.
    package func release() { released.signal() }

    /// Replaces what the following requests get: `replies` in turn, then `otherwise`.
    package func script(_ replies: [Reply], otherwise: Reply) {
        self.replies = replies
        self.otherwise = otherwise
    }

    /// Waits until `count` requests have arrived; false if they did not within `timeout`.
    package func waitForRequests(_ count: Int, timeout: Duration = .seconds(300)) async -> Bool {
        if received.count >= count { return true }
        let signal = CompletionSignal()
        waiters.append((count, signal))
        return await signal.wait(timeout: timeout)
    }

    /// The requests answered with `status`.
    package func answered(_ status: Int) -> [Received] { received.filter { $0.status == status } }

    private func arrive(_ request: Received) -> (index: Int, reply: Reply) {
        received.append(request)
        for waiter in waiters where received.count >= waiter.count { waiter.signal.signal() }
        waiters.removeAll { received.count >= $0.count }
        let reply = replies.isEmpty ? otherwise : replies.removeFirst()
        return (received.count - 1, reply)
    }

    private func answer(_ index: Int, _ status: Int) { received[index].status = status }

    private func respond(to request: Received) async -> Int {
        let (index, reply) = arrive(request)
        var status = 200
        switch reply {
        case .status(let code): status = code
        case .hang: _ = await released.wait(timeout: .seconds(120))
        }
        answer(index, status)
        return status
    }

    /// Serves on a free loopback port while `body` runs with the receiver and its port; requests the script does
    /// not cover get `otherwise`.
    package static func serving<T: Sendable>(
        _ replies: [Reply] = [],
        otherwise: Reply = .status(200),
        _ body: @Sendable (NotificationReceiver, Int) async throws -> T
    ) async throws -> T {
        let receiver = NotificationReceiver(replies: replies, otherwise: otherwise)
        let router = Router()
        router.post("**") { request, _ -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let status = await receiver.respond(
                to: Received(
                    path: request.uri.path,
                    headers: headers,
                    body: Data(buffer.readableBytesView),
                    status: nil
                )
            )
            return Response(status: .init(code: status), body: ResponseBody(byteBuffer: ByteBuffer(string: "noted")))
        }
        return try await serveOnLoopback(router, name: "notification receiver") { port in
            do {
                let result = try await body(receiver, port)
                await receiver.release()
                return result
            } catch {
                await receiver.release()
                throw error
            }
        }
    }
}
