import Foundation
import Hummingbird
import Logging

/// Serves `router` on a free loopback port while `body` runs with that port; the server stops when `body` returns.
func serveOnLoopback<T: Sendable>(
    _ router: Router<BasicRequestContext>,
    name: String,
    _ body: @Sendable (Int) async throws -> T
) async throws -> T {
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: name)
    logger.logLevel = .critical
    let application = Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            portSink.yield(channel.localAddress?.port ?? 0)
            portSink.finish()
        },
        logger: logger
    )
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await application.runService()
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw FixtureError("the \(name) did not start") }
        let result = try await body(port)
        group.cancelAll()
        while (try? await group.next()) != nil {}
        return result
    }
}
