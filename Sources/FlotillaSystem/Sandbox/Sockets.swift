import CFlotillaSystem
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few socket calls the network policy needs: listening inside a sandbox's network namespace, TCP to the allowed
/// hosts outside, and a byte pump between the two.
///
/// Blocking calls on threads of their own, one pair per connection: a session opens a handful of connections to its
/// model API (see `docs/ARCHITECTURE.md` for why not SwiftNIO here).
enum Sockets {
    struct Failure: Error, CustomStringConvertible {
        var call: String
        var code: Int32
        var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    /// Listens on 127.0.0.1:`port` (0 picks one); returns the socket and the port.
    static func listenLoopback(port: UInt16) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket", code: errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let code = errno
            close(fd)
            throw Failure(call: "bind 127.0.0.1:\(port)", code: code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: actual.sin_port))
    }

    /// Connects to `host:port` over TCP, trying each address the name resolves to.
    static func connectTCP(host: String, port: UInt16) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            throw Failure(call: "resolve \(host)", code: status == EAI_SYSTEM ? errno : ENOENT)
        }
        defer { freeaddrinfo(first) }
        var lastError = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd >= 0 {
                if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
                lastError = errno
                close(fd)
            }
            entry = info.pointee.ai_next
        }
        throw Failure(call: "connect \(host):\(port)", code: lastError)
    }

    static func accept(_ listener: Int32) -> Int32? {
        while true {
            let fd = flotilla_accept_cloexec(listener)
            if fd >= 0 { return fd }
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
    }

    static func writeAll(_ fd: Int32, _ data: some Collection<UInt8>) -> Bool {
        var bytes = Array(data)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeMutableBytes {
                send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        bytes.removeAll()
        return true
    }

    /// Listens on 127.0.0.1:`port` inside the network namespace of process `pid` (a sandbox's first process).
    static func listenInNamespace(of pid: Int32, port: UInt16) throws -> Int32 {
        let fd = flotilla_listen_in_namespace(pid, Int32(port))
        guard fd >= 0 else { throw Failure(call: "listen on 127.0.0.1:\(port) in the sandbox", code: errno) }
        return fd
    }

    /// Reads an HTTP head (up to the blank line, at most `limit` bytes); returns the head and whatever came after.
    static func readHead(_ fd: Int32, limit: Int = 64 << 10) -> (head: String, rest: [UInt8])? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let terminator: [UInt8] = [13, 10, 13, 10]
        while buffer.count < limit {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            buffer += chunk[..<count]
            if let end = buffer.firstRange(of: terminator) {
                return (String(decoding: buffer[..<end.lowerBound], as: UTF8.self), Array(buffer[end.upperBound...]))
            }
        }
        return nil
    }

    /// Copies bytes both ways until both sides are done, then closes both.
    static func pump(_ a: Int32, _ b: Int32) {
        let done = DispatchGroup()
        for (from, to) in [(a, b), (b, a)] {
            done.enter()
            Thread.detachNewThread {
                copy(from: from, to: to)
                done.leave()
            }
        }
        done.wait()
        close(a)
        close(b)
    }

    private static func copy(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0, writeAll(to, buffer[..<count]) else { break }
        }
        shutdown(to, Int32(SHUT_WR))
        shutdown(from, Int32(SHUT_RD))
    }
}
