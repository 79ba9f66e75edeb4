import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `allowlist` network policy's gatekeeper.
///
/// A sandbox with a network namespace of its own has only its loopback. Flotilla makes listening sockets on that
/// loopback (entering the namespace from a forked child, ``NamespaceListener``) and serves them from outside: an HTTP
/// proxy on the port `HTTPS_PROXY` names, and each allowed loopback server's own port, forwarded. Nothing inside has
/// any other way out, so what this refuses is unreachable, whatever the process inside does.
///
/// The proxy takes `CONNECT host:port` (HTTPS and any TCP) and absolute-form requests (`GET http://host/path`, plain
/// HTTP), and answers 403 for a host not on the list; refusals are kept for the session's transcript.
package final class EgressProxy: Sendable {
    private let allowed: [HostPattern]
    private let state = Mutex(State())

    private struct State {
        var listeners: [Int32] = []
        var connections: Set<Int32> = []
        var refused: [String] = []
        var stopped = false
    }

    package init(allowing hosts: [String]) {
        allowed = hosts.compactMap(HostPattern.init)
    }

    /// Serves the proxy on `listener` (which it now owns).
    package func serveProxy(on listener: Int32) {
        serve(listener) { [self] client in proxy(client) }
    }

    /// Forwards every connection to `listener` to `port` on this machine's loopback, which the allowlist allows.
    package func serveForward(on listener: Int32, to port: UInt16) {
        serve(listener) { [self] client in connect(client, host: "127.0.0.1", port: port, greeting: [], forward: []) }
    }

    /// Closes the listeners and every connection; threads end as their calls fail.
    package func stop() {
        let (listeners, open) = state.withLock { state -> ([Int32], Set<Int32>) in
            state.stopped = true
            return (state.listeners, state.connections)
        }
        for fd in listeners {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// `host:port` of every connection refused so far, in order.
    package var refused: [String] { state.withLock { $0.refused } }

    /// Whether the policy lets a connection to `host:port` through.
    package func allows(host: String, port: UInt16) -> Bool {
        allowed.contains { $0.matches(host: host, port: port) }
    }

    private func serve(_ listener: Int32, _ handle: @escaping @Sendable (Int32) -> Void) {
        let open = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.listeners.append(listener)
            return true
        }
        guard open else {
            close(listener)
            return
        }
        Thread.detachNewThread { [self] in
            while let client = Sockets.accept(listener) {
                guard track(client) else { break }
                Thread.detachNewThread { handle(client) }
            }
        }
    }

    private func track(_ fd: Int32) -> Bool {
        let open = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.connections.insert(fd)
            return true
        }
        if !open { close(fd) }
        return open
    }

    private func untrack(_ fds: Int32...) {
        state.withLock { state in for fd in fds { state.connections.remove(fd) } }
    }

    private func answer(_ client: Int32, _ response: String) {
        _ = Sockets.writeAll(client, Array(response.utf8))
        untrack(client)
        close(client)
    }

    private func proxy(_ client: Int32) {
        guard let (head, rest) = Sockets.readHead(client), let request = ProxyRequest(head: head) else {
            answer(client, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
            return
        }
        guard allows(host: request.host, port: request.port) else {
            state.withLock { $0.refused.append("\(request.host):\(request.port)") }
            let body =
                "Flotilla's network policy (allowlist) does not allow \(request.host):\(request.port); allowed: "
                + allowed.map(\.description).joined(separator: ", ") + ". Add it with --allow-host.\n"
            answer(
                client,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n"
                    + "Connection: close\r\n\r\n" + body
            )
            return
        }
        connect(
            client,
            host: request.host,
            port: request.port,
            greeting: request.tunnel ? Array("HTTP/1.1 200 Connection Established\r\n\r\n".utf8) : [],
            forward: request.tunnel ? rest : Array(request.originHead.utf8) + rest
        )
    }

    /// Connects to `host:port`, answers the client `greeting`, sends `forward` upstream, then carries bytes both ways.
    private func connect(_ client: Int32, host: String, port: UInt16, greeting: [UInt8], forward: [UInt8]) {
        let upstream: Int32
        do {
            upstream = try Sockets.connectTCP(host: host, port: port)
        } catch {
            answer(client, "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n\(error)\n")
            return
        }
        guard track(upstream) else {
            untrack(client)
            close(client)
            return
        }
        if (greeting.isEmpty || Sockets.writeAll(client, greeting)) && Sockets.writeAll(upstream, forward) {
            Sockets.pump(client, upstream)
        } else {
            close(client)
            close(upstream)
        }
        untrack(client, upstream)
    }
}

/// One allowlist entry: `host`, `host:port`, `*.domain` or `*.domain:port`; without a port, 80 and 443.
struct HostPattern: CustomStringConvertible {
    let host: String
    let wildcard: Bool
    let port: UInt16?

    init?(_ entry: String) {
        var text = entry.trimmingCharacters(in: .whitespaces).lowercased()
        guard !text.isEmpty else { return nil }
        var port: UInt16?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") { port = UInt16(after.dropFirst()) }
            text = String(text[text.index(after: text.startIndex)..<close])
        } else if let colon = text.lastIndex(of: ":"), text.filter({ $0 == ":" }).count == 1 {
            guard let value = UInt16(text[text.index(after: colon)...]) else { return nil }
            port = value
            text = String(text[..<colon])
        }
        wildcard = text.hasPrefix("*.")
        host = HostPattern.canonical(wildcard ? String(text.dropFirst(2)) : text)
        self.port = port
    }

    func matches(host candidate: String, port candidatePort: UInt16) -> Bool {
        let name = HostPattern.canonical(candidate.lowercased())
        let hostMatches = wildcard ? name.hasSuffix("." + host) : name == host
        guard hostMatches else { return false }
        if let port { return port == candidatePort }
        return candidatePort == 443 || candidatePort == 80
    }

    /// Loopback has several names; they are one host.
    static func canonical(_ host: String) -> String {
        ["localhost", "::1", "127.0.0.1", "ip6-localhost"].contains(host) ? "127.0.0.1" : host
    }

    var description: String {
        (wildcard ? "*." : "") + host + (port.map { ":\($0)" } ?? "")
    }
}

/// The first line and headers of a request to the proxy.
struct ProxyRequest {
    var host: String
    var port: UInt16
    /// CONNECT: after the 200 the connection is the client's byte stream.
    var tunnel: Bool
    /// For plain HTTP: the head to send upstream, in origin form and closing the connection after one exchange.
    var originHead: String

    init?(head: String) {
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines.first?.split(separator: " ", maxSplits: 2).map(String.init) ?? []
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return nil }
        if parts[0].uppercased() == "CONNECT" {
            guard let (host, port) = Self.authority(parts[1], defaultPort: 443) else { return nil }
            self.host = host
            self.port = port
            tunnel = true
            originHead = ""
            return
        }
        guard let schemeEnd = parts[1].range(of: "://") else { return nil }
        let scheme = parts[1][..<schemeEnd.lowerBound].lowercased()
        let rest = parts[1][schemeEnd.upperBound...]
        let authority = String(rest.prefix { $0 != "/" && $0 != "?" })
        let path = rest.dropFirst(authority.count)
        guard let (host, port) = Self.authority(authority, defaultPort: scheme == "https" ? 443 : 80) else {
            return nil
        }
        self.host = host
        self.port = port
        tunnel = false
        var headers = lines.dropFirst().filter { line in
            let name = line.prefix { $0 != ":" }.lowercased()
            return !line.isEmpty
                && !["proxy-connection", "proxy-authorization", "connection", "keep-alive"]
                    .contains(name)
        }
        headers.append("Connection: close")
        originHead =
            "\(parts[0]) \(path.isEmpty ? "/" : String(path)) \(parts[2])\r\n" + headers.joined(separator: "\r\n")
            + "\r\n\r\n"
    }

    private static func authority(_ text: String, defaultPort: UInt16) -> (String, UInt16)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            let port = after.hasPrefix(":") ? UInt16(after.dropFirst()) : defaultPort
            return port.map { (host, $0) }
        }
        let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
        guard let host = pieces.first, !host.isEmpty, pieces.count <= 2 else { return nil }
        let port = pieces.count == 2 ? UInt16(pieces[1]) : defaultPort
        return port.map { (String(host), $0) }
    }
}
