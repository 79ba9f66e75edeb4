import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

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

/// The client of the daemon's API (and the tests' of any server on loopback), over AsyncHTTPClient.
///
/// One connection per request (`Connection: close`), so a daemon that restarts on the same port never meets a
/// pooled connection to its former self.
package struct APIClient: Sendable {
    package var host: String
    package var port: Int
    package var token: String?
    /// Upper bound on one whole request, answer included (streams have none).
    package var timeoutSeconds: Int
    /// Waits up to the request's deadline for a connection instead of 3 s: for a caller that knows the daemon is
    /// up (a test that started it) on a machine so busy that a loopback connection can take longer.
    package var patient: Bool

    package init(host: String, port: Int, token: String? = nil, timeoutSeconds: Int = 30, patient: Bool = false) {
        self.host = host
        self.port = port
        self.token = token
        self.timeoutSeconds = timeoutSeconds
        self.patient = patient
    }

    /// The client of every request, for as long as the process lives.
    ///
    /// AsyncHTTPClient retries a refused connection until the connect timeout (the shared client's is the request's
    /// deadline: 30 s); a daemon that does not answer on loopback is said to be down after 3 s instead.
    static let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(3), read: nil))
    )

    /// The client of ``patient`` callers: connections wait as long as the request may.
    static let patientClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(60), read: nil))
    )

    /// The most a response body may hold (the largest answer, an event page, is far below it).
    private static let bodyLimit = 64 << 20

    /// Sends one request and reads the whole response.
    package func send(
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: Data? = nil
    ) async throws -> HTTPResponse {
        let deadline = NIODeadline.now() + .seconds(Int64(timeoutSeconds))
        let response = try await execute(method, path, headers: headers, body: body, deadline: deadline)
        var answer = Self.head(response)
        do {
            answer.body = Data(buffer: try await response.body.collect(upTo: Self.bodyLimit))
        } catch {
            throw APIClientError.io("\(error)")
        }
        return answer
    }

    /// Sends a GET and hands each line of the body to `onLine` as it arrives; for Server-Sent Events.
    ///
    /// Reading stops when `onLine` returns false or the body ends. Returns the response head (status and headers,
    /// no body; the body too when the status is not a success).
    @discardableResult
    package func streamLines(
        _ path: String,
        headers: [(String, String)] = [],
        onLine: @escaping @Sendable (String) -> Bool
    ) async throws -> HTTPResponse {
        let response = try await execute("GET", path, headers: headers, body: nil, deadline: .distantFuture)
        var answer = Self.head(response)
        var lines = LineSplitter()
        do {
            guard (200..<300).contains(answer.status) else {
                answer.body = Data(buffer: try await response.body.collect(upTo: Self.bodyLimit))
                return answer
            }
            for try await chunk in response.body {
                for line in lines.split(chunk) where !onLine(line) { return answer }
            }
        } catch {
            throw APIClientError.io("\(error)")
        }
        return answer
    }

    private func execute(
        _ method: String,
        _ path: String,
        headers: [(String, String)],
        body: Data?,
        deadline: NIODeadline
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: "http://\(host):\(port)\(path)")
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Connection", value: "close")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            if !request.headers.contains(name: "Content-Type") {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
            request.body = .bytes(ByteBuffer(data: body))
        }
        do {
            return try await (patient ? Self.patientClient : Self.client).execute(request, deadline: deadline)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw APIClientError.cannotConnect("\(host):\(port): \(error)")
        }
    }

    private static func head(_ response: HTTPClientResponse) -> HTTPResponse {
        HTTPResponse(
            status: Int(response.status.code),
            headers: response.headers.map { (name: $0.name.lowercased(), value: $0.value) },
            body: Data()
        )
    }
}

/// Splits a byte stream into lines (LF or CRLF), keeping a partial line for the next chunk.
private struct LineSplitter {
    private var pending: [UInt8] = []

    mutating func split(_ chunk: ByteBuffer) -> [String] {
        pending.append(contentsOf: chunk.readableBytesView)
        var lines: [String] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = pending[..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            lines.append(String(decoding: line, as: UTF8.self))
            pending.removeSubrange(...newline)
        }
        return lines
    }
}

/// Why a request did not get a response.
package enum APIClientError: Error, Sendable, CustomStringConvertible, Equatable {
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
