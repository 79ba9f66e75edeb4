import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP response, body read in full.
package struct HTTPResponse: Sendable {
    package var status: Int
    /// Header names lowercased, in the order received.
    package var headers: [(name: String, value: String)]
    package var body: Data

    package func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }

    package var text: String { String(decoding: body, as: UTF8.self) }

    package func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try APIJSON.decoder.decode(type, from: body)
    }
}

/// A small HTTP/1.1 client over a plain socket, for the daemon's API.
///
/// The CLI talks to a daemon on this machine and the tests to a server on loopback; neither needs TLS,
/// redirects or connection pools, and a socket keeps the CLI's start-up free of libcurl.
/// One connection per request (`Connection: close`); bodies may be sized or chunked.
package struct HTTPClient: Sendable {
    package var host: String
    package var port: Int
    package var token: String?
    /// Upper bound on waiting for any single read or write.
    package var timeoutSeconds: Int

    package init(host: String, port: Int, token: String? = nil, timeoutSeconds: Int = 30) {
        self.host = host
        self.port = port
        self.token = token
        self.timeoutSeconds = timeoutSeconds
    }

    /// Sends one request and reads the whole response.
    package func send(
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: Data? = nil
    ) async throws -> HTTPResponse {
        let request = self.request(method, path, headers: headers, body: body)
        return try await onThread {
            let connection = try Connection(host: host, port: port, timeoutSeconds: timeoutSeconds)
            defer { connection.close() }
            try connection.write(request)
            var reader = ResponseReader(connection: connection)
            let head = try reader.readHead()
            var response = HTTPResponse(status: head.status, headers: head.headers, body: Data())
            try reader.readBody(head) { response.body.append($0) }
            return response
        }
    }

    /// Sends a GET and hands each line of the body to `onLine` as it arrives; for Server-Sent Events.
    ///
    /// Reading stops when `onLine` returns false or the body ends. Returns the response head (status and headers, no body).
    @discardableResult
    package func streamLines(
        _ path: String,
        headers: [(String, String)] = [],
        onLine: @escaping @Sendable (String) -> Bool
    ) async throws -> HTTPResponse {
        let request = self.request("GET", path, headers: headers, body: nil)
        return try await onThread {
            let connection = try Connection(host: host, port: port, timeoutSeconds: timeoutSeconds)
            defer { connection.close() }
            try connection.write(request)
            var reader = ResponseReader(connection: connection)
            let head = try reader.readHead()
            var response = HTTPResponse(status: head.status, headers: head.headers, body: Data())
            guard (200..<300).contains(head.status) else {
                try reader.readBody(head) { response.body.append($0) }
                return response
            }
            var pending = Data()
            do {
                try reader.readBody(head) { chunk in
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        var line = pending[pending.startIndex..<newline]
                        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                        pending = Data(pending[(newline + 1)...])
                        if !onLine(String(decoding: line, as: UTF8.self)) { throw StopReading() }
                    }
                }
            } catch is StopReading {
                // The caller has what it wanted.
            }
            return response
        }
    }

    private func request(_ method: String, _ path: String, headers: [(String, String)], body: Data?) -> Data {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                head += "Content-Type: application/json\r\n"
            }
            head += "Content-Length: \(body.count)\r\n"
        }
        return Data((head + "\r\n").utf8) + (body ?? Data())
    }

    /// Runs blocking socket work on a thread of its own, off the cooperative pool.
    private func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    continuation.resume(returning: try work())
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }
}

/// Why a request did not get a response.
package enum HTTPClientError: Error, Sendable, CustomStringConvertible, Equatable {
    case cannotConnect(String)
    case io(String)
    case malformedResponse(String)

    package var description: String {
        switch self {
        case .cannotConnect(let detail): "cannot connect: \(detail)"
        case .io(let detail): "connection failed: \(detail)"
        case .malformedResponse(let detail): "malformed HTTP response: \(detail)"
        }
    }
}

private struct StopReading: Error {}

/// The JSON conventions of the API: snake_case keys given explicitly, ISO 8601 dates.
package enum APIJSON {
    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    package static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

/// A connected TCP socket with read and write timeouts.
private final class Connection {
    private let descriptor: Int32

    init(host: String, port: Int, timeoutSeconds: Int) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw HTTPClientError.cannotConnect("\(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            let socketDescriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if socketDescriptor >= 0 {
                var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                _ = setsockopt(
                    socketDescriptor,
                    SOL_SOCKET,
                    SO_RCVTIMEO,
                    &timeout,
                    socklen_t(MemoryLayout<timeval>.size)
                )
                _ = setsockopt(
                    socketDescriptor,
                    SOL_SOCKET,
                    SO_SNDTIMEO,
                    &timeout,
                    socklen_t(MemoryLayout<timeval>.size)
                )
                if connect(socketDescriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    descriptor = socketDescriptor
                    return
                }
                lastError = errno
                _ = Glibc.close(socketDescriptor)
            } else {
                lastError = errno
            }
            candidate = info.pointee.ai_next
        }
        throw HTTPClientError.cannotConnect("\(host):\(port): \(String(cString: strerror(lastError)))")
    }

    func write(_ data: Data) throws {
        try data.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = send(descriptor, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw HTTPClientError.io("write: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
    }

    /// Reads what is available; empty at end of stream.
    func read() throws -> Data {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count >= 0 { return Data(buffer[0..<count]) }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw HTTPClientError.io("timed out waiting for the server") }
            throw HTTPClientError.io("read: \(String(cString: strerror(errno)))")
        }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}

/// Parses a response from a connection: head, then a sized, chunked or close-delimited body.
private struct ResponseReader {
    struct Head {
        var status: Int
        var headers: [(name: String, value: String)]

        func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
    }

    let connection: Connection
    private var buffer = Data()
    private var ended = false

    init(connection: Connection) {
        self.connection = connection
    }

    /// Makes sure at least `count` bytes are buffered; false if the stream ended first.
    private mutating func fill(_ count: Int) throws -> Bool {
        while buffer.count < count && !ended {
            let data = try connection.read()
            if data.isEmpty { ended = true } else { buffer.append(data) }
        }
        return buffer.count >= count
    }

    private mutating func take(_ count: Int) -> Data {
        let taken = Data(buffer.prefix(count))
        buffer = Data(buffer.dropFirst(count))
        return taken
    }

    private mutating func readLine() throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = take(newline - buffer.startIndex + 1)
                return String(decoding: line, as: UTF8.self).trimmingCharacters(in: .newlines)
            }
            if ended { return nil }
            if try !fill(buffer.count + 1) { continue }
        }
    }

    mutating func readHead() throws -> Head {
        guard let statusLine = try readLine() else {
            throw HTTPClientError.malformedResponse("the server closed the connection without answering")
        }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw HTTPClientError.malformedResponse("status line \(statusLine)")
        }
        var headers: [(name: String, value: String)] = []
        while let line = try readLine(), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw HTTPClientError.malformedResponse("header line \(line)")
            }
            headers.append(
                (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            )
        }
        return Head(status: status, headers: headers)
    }

    mutating func readBody(_ head: Head, into consume: (Data) throws -> Void) throws {
        if head.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            while true {
                guard let sizeLine = try readLine(),
                    let size = Int(sizeLine.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16)
                else { throw HTTPClientError.malformedResponse("bad chunk size") }
                if size == 0 { return }
                guard try fill(size + 2) else { throw HTTPClientError.malformedResponse("truncated chunk") }
                try consume(take(size))
                _ = take(2)
            }
        } else if let length = head.header("content-length").flatMap(Int.init) {
            guard try fill(length) else { throw HTTPClientError.malformedResponse("truncated body") }
            try consume(take(length))
        } else {
            while try fill(buffer.count + 1) { try consume(take(buffer.count)) }
            if !buffer.isEmpty { try consume(take(buffer.count)) }
        }
    }
}
