import Foundation

/// The daemon's REST API, typed, for the CLI.
package struct DaemonClient: Sendable {
    package let http: HTTPClient

    package init(info: DaemonInfo, token: String?) {
        // The daemon listens on all interfaces when bound to 0.0.0.0; this machine reaches it on loopback.
        let host = info.host == "0.0.0.0" ? "127.0.0.1" : info.host == "::" ? "::1" : info.host
        http = HTTPClient(host: host, port: info.port, token: token)
    }

    package func missions() async throws -> [MissionDTO] {
        try await get("/missions", as: MissionListDTO.self).missions
    }

    package func mission(_ id: String) async throws -> MissionDTO {
        try await get("/missions/\(id)", as: MissionDTO.self)
    }

    package func attempts(_ id: String) async throws -> HistoryDTO {
        try await get("/missions/\(id)/attempts", as: HistoryDTO.self)
    }

    package func stop(_ id: String, waitSeconds: Double) async throws -> MissionDTO {
        try await post("/missions/\(id)/stop?wait=\(waitSeconds)", as: MissionDTO.self)
    }

    package func resume(_ id: String) async throws -> MissionDTO {
        try await post("/missions/\(id)/resume", as: MissionDTO.self)
    }

    package func approve(_ id: String, groups: [String]) async throws -> ApprovalDTO {
        let body = try APIJSON.encoder.encode(ApprovalRequestDTO(groups: groups))
        return try await post("/missions/\(id)/approve", body: body, as: ApprovalDTO.self)
    }

    /// Streams the mission's events (Server-Sent Events) until it ends or `onEvent` returns false.
    package func followEvents(
        _ id: String,
        after lastEventID: Int64 = 0,
        onEvent: @escaping @Sendable (EventDTO) -> Bool
    ) async throws {
        let response = try await http.streamLines(
            "/missions/\(id)/stream",
            headers: [("Accept", "text/event-stream"), ("Last-Event-ID", String(lastEventID))]
        ) { line in
            guard line.hasPrefix("data: "),
                let event = try? APIJSON.decoder.decode(EventDTO.self, from: Data(line.dropFirst(6).utf8))
            else { return true }
            return onEvent(event)
        }
        try check(response)
    }

    private func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        let response = try await http.send("GET", path)
        try check(response)
        return try response.decode(type)
    }

    private func post<T: Decodable>(_ path: String, body: Data = Data("{}".utf8), as type: T.Type) async throws -> T {
        let response = try await http.send("POST", path, body: body)
        try check(response)
        return try response.decode(type)
    }

    private func check(_ response: HTTPResponse) throws {
        guard !(200..<300).contains(response.status) else { return }
        let message = (try? response.decode(ErrorDTO.self))?.error.message ?? "HTTP \(response.status)"
        throw DaemonError(status: response.status, message: message)
    }
}

/// The daemon answered with an error.
package struct DaemonError: Error, Sendable, CustomStringConvertible {
    package var status: Int
    package var message: String

    package var description: String { message }
}
