import FlotillaCore
import Foundation

/// A daemon's REST API as a ``MissionService``: what the CLI uses when a daemon serves the repository.
package struct DaemonClient: MissionService {
    package let http: APIClient
    package let repositories: [String]

    package init(info: DaemonInfo, token: String?) {
        // The daemon listens on all interfaces when bound to 0.0.0.0; this machine reaches it on loopback.
        let host = info.host == "0.0.0.0" ? "127.0.0.1" : info.host == "::" ? "::1" : info.host
        // The daemon's process is alive (its record was checked): a slow answer on a busy machine is waited for.
        http = APIClient(host: host, port: info.port, token: token, patient: true)
        repositories = info.repositories
    }

    package func missions(in scope: Set<String>?) async throws -> [MissionDTO] {
        try await get("/missions", as: MissionListDTO.self).missions.filter { scope?.contains($0.repository) ?? true }
    }

    package func mission(_ id: MissionID) async throws -> MissionDTO? {
        do {
            return try await get("/missions/\(id)", as: MissionDTO.self)
        } catch let error as FlotillaError where error.code == .notFound {
            return nil
        }
    }

    package func validate(_ fields: MissionFields, repository: String) async throws {
        var fields = fields
        fields.repository = repository
        fields.dryRun = true
        _ = try await post("/missions", body: try APIJSON.encoder.encode(fields), as: JSONValue.self)
    }

    package func create(_ fields: MissionFields, repository: String) async throws -> MissionDTO {
        var fields = fields
        fields.repository = repository
        return try await post("/missions", body: try APIJSON.encoder.encode(fields), as: MissionDTO.self)
    }

    package func stop(_ id: MissionID, wait: Duration, end: MissionEnd) async throws -> MissionDTO {
        var query = "wait=\(wait.seconds)&end=\(end.name)"
        if let reason = end.reason {
            query += "&reason=" + (reason.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        }
        return try await post("/missions/\(id)/stop?\(query)", as: MissionDTO.self)
    }

    package func step(_ id: MissionID, attempts: Int) async throws -> MissionDTO {
        try await post("/missions/\(id)/step?attempts=\(attempts)", as: MissionDTO.self)
    }

    package func resume(_ id: MissionID) async throws -> MissionDTO {
        try await post("/missions/\(id)/resume", as: MissionDTO.self)
    }

    package func approve(_ id: MissionID, groups: [String]) async throws -> ApprovalDTO {
        let body = try APIJSON.encoder.encode(ApprovalRequestDTO(groups: groups))
        return try await post("/missions/\(id)/approve", body: body, as: ApprovalDTO.self)
    }

    package func check(_ id: MissionID, groups: [String], commit: String?) async throws -> CheckDTO {
        let body = try APIJSON.encoder.encode(CheckRequestDTO(groups: groups.isEmpty ? nil : groups, commit: commit))
        return try await post("/missions/\(id)/check", body: body, as: CheckDTO.self)
    }

    package func land(_ id: MissionID, onto branch: String) async throws -> LandingDTO {
        let body = try APIJSON.encoder.encode(LandRequestDTO(onto: branch))
        return try await post("/missions/\(id)/land", body: body, as: LandingDTO.self)
    }

    package func reject(_ id: MissionID, groups: [String], reason: String) async throws -> ApprovalDTO {
        let body = try APIJSON.encoder.encode(RejectionRequestDTO(groups: groups, reason: reason))
        return try await post("/missions/\(id)/reject", body: body, as: ApprovalDTO.self)
    }

    package func attempts(_ id: MissionID) async throws -> HistoryDTO {
        try await get("/missions/\(id)/attempts", as: HistoryDTO.self)
    }

    package func attempt(_ id: MissionID, sequence: Int) async throws -> AttemptDetailDTO {
        try await get("/missions/\(id)/attempts/\(sequence)", as: AttemptDetailDTO.self)
    }

    package func stepFile(_ id: MissionID, sequence: Int, folder: String, file: String) async throws -> StepFileDTO {
        var query = URLComponents()
        query.queryItems = [URLQueryItem(name: "file", value: file)]
        let folder = folder.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? folder
        return try await get(
            "/missions/\(id)/attempts/\(sequence)/steps/\(folder)?\(query.percentEncodedQuery ?? "")",
            as: StepFileDTO.self
        )
    }

    package func events(_ id: MissionID, after: Int64, limit: Int) async throws -> [EventDTO] {
        try await get("/missions/\(id)/events?after=\(after)&limit=\(limit)", as: EventListDTO.self).events
    }

    package func checklist(_ id: MissionID) async throws -> ChecklistDTO {
        try await get("/missions/\(id)/checklist", as: ChecklistDTO.self)
    }

    /// Streams the mission's events (Server-Sent Events) until it ends or `onEvent` returns false.
    package func followEvents(
        _ id: MissionID,
        after lastEventID: Int64 = 0,
        onEvent: @escaping @Sendable (EventDTO) -> Bool
    ) async throws {
        let response = try await reaching {
            try await http.streamLines(
                "/missions/\(id)/stream",
                headers: [("Accept", "text/event-stream"), ("Last-Event-ID", String(lastEventID))]
            ) { line in
                guard line.hasPrefix("data: "),
                    let event = try? APIJSON.decoder.decode(EventDTO.self, from: Data(line.dropFirst(6).utf8))
                else { return true }
                return onEvent(event)
            }
        }
        try check(response)
    }

    private func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        let response = try await reaching { try await http.send("GET", path) }
        try check(response)
        return try response.decode(type)
    }

    private func post<T: Decodable>(_ path: String, body: Data = Data("{}".utf8), as type: T.Type) async throws -> T {
        let response = try await reaching { try await http.send("POST", path, body: body) }
        try check(response)
        return try response.decode(type)
    }

    /// The daemon not answering is this machine's problem, said with the way around it.
    private func reaching<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as APIClientError {
            throw FlotillaError(
                .unavailable,
                "the daemon did not answer: \(error); FLOTILLA_NO_DAEMON=1 reads the ledger directly"
            )
        }
    }

    /// An error answer, as the error the daemon raised: the same code, message and fields.
    private func check(_ response: HTTPResponse) throws {
        guard !(200..<300).contains(response.status) else { return }
        let body = (try? response.decode(ErrorDTO.self))?.error
        let code: FlotillaError.Code =
            switch response.status {
            case 404: .notFound
            case 409: .conflict
            case 400..<500: .invalidInput
            case 503: .unavailable
            default: .internal
            }
        throw FlotillaError(code, body?.message ?? "HTTP \(response.status)", fields: body?.fields ?? [])
    }
}
