import CFlotillaSystem
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The other end of the `allowlist` policy, inside the sandbox (`flotilla sandbox-relay`): the sandbox's network has
/// only its own loopback, so the relay listens there and carries each connection over the Unix socket to
/// ``EgressProxy`` outside.
///
/// - `proxyPort`: the port `HTTP_PROXY`/`HTTPS_PROXY` name, relayed as is;
/// - `forwards`: loopback ports of allowed local servers (a model on `127.0.0.1:8080`), so that a tool reaching them
///   directly, without its proxy settings, still gets there: each connection is tunnelled with a `CONNECT`.
///
/// Then it runs the command and exits with its status; signals it receives are passed on.
package enum SandboxRelay {
    package struct Configuration: Sendable {
        package var socketPath: String
        package var proxyPort: UInt16
        package var forwards: [UInt16]
        package var command: [String]

        package init(socketPath: String, proxyPort: UInt16, forwards: [UInt16], command: [String]) {
            self.socketPath = socketPath
            self.proxyPort = proxyPort
            self.forwards = forwards
            self.command = command
        }
    }

    /// Listens, runs the command, and returns its exit status (128 + signal when a signal ended it).
    package static func run(_ configuration: Configuration) throws -> Int32 {
        let proxy = try Sockets.listenLoopback(port: configuration.proxyPort)
        accept(on: proxy.fd, socketPath: configuration.socketPath, tunnelTo: nil)
        for port in configuration.forwards {
            // A port below 1024 cannot be taken without privileges: that server stays reachable through the proxy.
            guard let listener = try? Sockets.listenLoopback(port: port) else { continue }
            accept(on: listener.fd, socketPath: configuration.socketPath, tunnelTo: port)
        }
        return try spawnAndWait(configuration.command)
    }

    private static func accept(on listener: Int32, socketPath: String, tunnelTo port: UInt16?) {
        Thread.detachNewThread {
            while let client = Sockets.accept(listener) {
                Thread.detachNewThread {
                    guard let upstream = try? Sockets.connectUnix(socketPath) else {
                        close(client)
                        return
                    }
                    if let port {
                        let request = "CONNECT 127.0.0.1:\(port) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n"
                        guard Sockets.writeAll(upstream, Array(request.utf8)),
                            let (head, rest) = Sockets.readHead(upstream), head.hasPrefix("HTTP/1.1 200"),
                            Sockets.writeAll(client, rest)
                        else {
                            close(client)
                            close(upstream)
                            return
                        }
                    }
                    Sockets.pump(client, upstream)
                }
            }
        }
    }

    private static func spawnAndWait(_ command: [String]) throws -> Int32 {
        guard let executable = command.first else { throw Sockets.Failure(call: "run", code: EINVAL) }
        var pid: pid_t = 0
        let argv = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawned = posix_spawnp(&pid, executable, nil, nil, argv, environ)
        guard spawned == 0 else { throw Sockets.Failure(call: "run \(executable)", code: spawned) }
        // Signals for the session go to the command; the relay itself waits for it.
        let sources = [SIGTERM, SIGINT, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { kill(pid, number) }
            source.resume()
            return source
        }
        var status: Int32 = 0
        let waited = withExtendedLifetime(sources) {
            while waitpid(pid, &status, 0) < 0 {
                if errno != EINTR { return false }
            }
            return true
        }
        guard waited else { return 127 }
        let signalled = status & 0x7F
        return signalled == 0 ? (status >> 8) & 0xFF : 128 + signalled
    }
}
