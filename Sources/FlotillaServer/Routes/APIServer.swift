import FlotillaAPI
import FlotillaCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// How the API listens and whom it lets in.
package struct APIConfiguration: Sendable {
    package var host = "127.0.0.1"
    /// 0 picks a free port (reported once listening).
    package var port = 8470
    package var tokens = AccessTokens()
    /// Whether the REST routes need a token too (always when listening beyond loopback); the webhook always does.
    package var requireToken = false
    package var maxBodyBytes = 1 << 20
    /// How often a live event stream looks for new events in the ledger.
    package var pollInterval: Duration = .milliseconds(100)
    /// A comment line on an idle event stream, so that proxies keep it open.
    package var keepAliveInterval: Duration = .seconds(15)

    package init() {}

    package var isLoopback: Bool {
        ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.")
    }

    /// A configuration the daemon may start with: beyond loopback, a token is required.
    package func checked() throws(TokenFileError) -> APIConfiguration {
        var checked = self
        if !isLoopback {
            guard !tokens.isEmpty else {
                throw TokenFileError(
                    "--host \(host) exposes the API beyond this machine: give tokens with --token-file or "
                        + "FLOTILLA_API_TOKEN"
                )
            }
            checked.requireToken = true
        }
        if requireToken && tokens.isEmpty {
            throw TokenFileError("--require-token needs tokens: give --token-file or FLOTILLA_API_TOKEN")
        }
        return checked
    }
}

/// The daemon's HTTP API: REST over missions, a live event stream, the webhook and monitoring.
package struct APIServer: Sendable {
    package let service: any MissionHost
    package let configuration: APIConfiguration
    package let counters = ServerCounters()
    package let readiness = Readiness()
    private let limiter = RateLimiter()
    private let deliveriesInFlight = InFlightKeys()
    let mcp: MCPEndpoint

    package init(service: any MissionHost, configuration: APIConfiguration) {
        self.service = service
        self.configuration = configuration
        mcp = MCPEndpoint(service: service)
    }

    /// Every route, with its handler.
    ///
    /// `OpenAPIDocument` describes the same set; a test holds them together.
    package func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let allowed = AllowedMethods()
        router.add(middleware: AnswerMiddleware(counters: counters, allowed: allowed))
        router.add(middleware: BrowserGuard(loopbackOnly: configuration.isLoopback))
        DashboardController().addRoutes(to: router)
        router.get("/health") { _, _ in JSONResponse.make(["status": "ok"]) }
        router.get("/ready") { _, _ in
            guard await readiness.isReady else {
                throw APIError(.serviceUnavailable, code: "starting", "still reconciling missions after start")
            }
            return JSONResponse.make(["status": "ready"])
        }
        router.get("/metrics") { request, _ in
            _ = try access(request)
            return try await metrics()
        }
        router.get("/openapi.json") { request, _ in
            _ = try access(request)
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json))
            )
        }
        router.get("/missions") { request, _ in
            let principal = try access(request)
            return JSONResponse.make(MissionListDTO(missions: try await service.missions(in: principal.repositories)))
        }
        router.post("/missions") { request, context in
            try await submit(request, context: context, principal: try access(request), fromWebhook: false)
        }
        router.get("/missions/:id") { request, context in
            JSONResponse.make(try await visibleMission(context, principal: try access(request)).dto)
        }
        router.post("/missions/:id/stop") { request, context in
            let mission = try await visibleMission(context, principal: try access(request))
            let wait = try Self.parameter(
                request.uri.queryParameters.get("wait"),
                "wait",
                default: 60.0,
                minimum: 0,
                maximum: 3600
            )
            return JSONResponse.make(try await service.stop(mission.id, wait: .seconds(bounded: wait)))
        }
        router.post("/missions/:id/resume") { request, context in
            let mission = try await visibleMission(context, principal: try access(request))
            return JSONResponse.make(try await service.resume(mission.id))
        }
        router.post("/missions/:id/approve") { request, context in
            let mission = try await visibleMission(context, principal: try access(request))
            let groups = try Self.approvedGroups(try await readBody(request))
            return JSONResponse.make(try await service.approve(mission.id, groups: groups))
        }
        router.post("/missions/:id/land") { request, context in
            let mission = try await visibleMission(context, principal: try access(request))
            let onto = try Self.landing(try await readBody(request))
            return JSONResponse.make(try await service.land(mission.id, onto: onto))
        }
        router.post("/missions/:id/reject") { request, context in
            let mission = try await visibleMission(context, principal: try access(request))
            let rejection = try Self.rejection(try await readBody(request))
            return JSONResponse.make(
                try await service.reject(mission.id, groups: rejection.groups, reason: rejection.reason)
            )
        }
        router.get("/missions/:id/attempts") { request, context in
            let mission = try await visibleMission(context, principal: try access(request))
            return JSONResponse.make(try await service.attempts(mission.id))
        }
        router.get("/missions/:id/attempts/:sequence") { request, context in
            let mission = try await visibleMission(context, principal: try access(request))
            let sequence = try Self.parameter(
                context.parameters.get("sequence"),
                "sequence",
                default: 0,
                minimum: 1,
                maximum: Int(Int32.max)
            )
            return JSONResponse.make(try await service.attempt(mission.id, sequence: sequence))
        }
        router.get("/missions/:id/events") { request, context in
            let mission = try await visibleMission(context, principal: try access(request))
            let query = request.uri.queryParameters
            let after = try Self.parameter(
                query.get("after"),
                "after",
                default: Int64(0),
                minimum: 0,
                maximum: Self.largestEventID
            )
            let limit = try Self.parameter(query.get("limit"), "limit", default: 1000, minimum: 1, maximum: 10_000)
            return JSONResponse.make(
                EventListDTO(events: try await service.events(mission.id, after: after, limit: limit))
            )
        }
        router.get("/missions/:id/stream") { request, context in
            let mission = try await visibleMission(context, principal: try access(request))
            // The header, sent by a reconnecting EventSource, wins over the query; both must be valid.
            let after = try Self.parameter(
                request.uri.queryParameters.get("after"),
                "after",
                default: Int64(0),
                minimum: 0,
                maximum: Self.largestEventID
            )
            let lastEventID = try Self.parameter(
                request.headers[.lastEventID],
                "Last-Event-ID",
                default: after,
                minimum: 0,
                maximum: Self.largestEventID
            )
            return EventStream(service: service, configuration: configuration)
                .response(mission: mission.id, after: lastEventID)
        }
        router.get("/missions/:id/checklist") { request, context in
            let mission = try await visibleMission(context, principal: try access(request))
            return JSONResponse.make(try await service.checklist(mission.id))
        }
        addMCPRoute(to: router)
        router.post("/webhook") { request, context in
            do {
                let principal = try authenticate(request)
                if let limit = configuration.tokens.limit(for: principal.name),
                    let wait = await limiter.take(principal.name, limit: limit)
                {
                    let seconds = max(1, Int((Double(wait.components.seconds) + 0.999).rounded(.down)))
                    throw APIError(
                        .tooManyRequests,
                        code: "rate_limited",
                        "too many deliveries for token \(principal.name); retry in \(seconds) s",
                        headers: [.retryAfter: String(seconds)]
                    )
                }
                let response = try await submit(request, context: context, principal: principal, fromWebhook: true)
                await counters.delivery(response.status == .ok ? "dry_run" : "accepted")
                return response
            } catch {
                let answer = APIError.from(error)
                await counters.delivery(Self.deliveryResult(answer))
                throw answer
            }
        }
        allowed.load(router.routes.map { ($0.method, $0.path.description) })
        return router
    }

    /// The largest event id a client may name: JSON's largest exact integer.
    static let largestEventID: Int64 = 9_007_199_254_740_991

    /// A query parameter or header: its default when absent, else a value from `minimum` (to `maximum`) or a 400
    /// naming it.
    static func parameter<Value: LosslessStringConvertible & Comparable>(
        _ text: String?,
        _ name: String,
        default value: Value,
        minimum: Value,
        maximum: Value? = nil
    ) throws -> Value {
        guard let text else { return value }
        guard let parsed = Value(text), parsed >= minimum, maximum.map({ parsed <= $0 }) ?? true else {
            let message =
                "must be a \(Value.self == Double.self ? "number" : "whole number") from \(minimum)"
                + (maximum.map { " to \($0)" } ?? "")
            throw FlotillaError.invalid("\(name) \(message)", fields: [FieldProblem(field: name, message: message)])
        }
        return parsed
    }

    /// The routes the router serves, as `method /path/{parameter}`: what the OpenAPI document must describe.
    package var servedRoutes: Set<String> {
        Set(makeRouter().routes.map { "\($0.method.rawValue.lowercased()) \($0.path.description)" })
    }

    /// The HTTP server with `services` beside it (the supervisor), until SIGTERM or SIGINT; `onListening` gets the
    /// port once bound.
    package func run(
        logger: Logger,
        services: [any Service] = [],
        onListening: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let application = Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "flotilla"
            ),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? configuration.port)
            },
            logger: logger
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [application as any Service] + services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    // MARK: - Access

    /// The caller of a REST route: a token holder when tokens are required (or one is presented), else local.
    func access(_ request: Request) throws -> Principal {
        let header = request.headers[.authorization]
        if header == nil && !configuration.requireToken { return .local }
        return try authenticate(request)
    }

    private func authenticate(_ request: Request) throws -> Principal {
        guard let header = request.headers[.authorization] else {
            throw APIError(
                .unauthorized,
                code: "unauthorized",
                "an Authorization: Bearer token is required",
                headers: [.wwwAuthenticate: "Bearer"]
            )
        }
        guard let principal = configuration.tokens.authenticate(header) else {
            throw APIError(
                .unauthorized,
                code: "unauthorized",
                "the bearer token is not valid",
                headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""]
            )
        }
        return principal
    }

    /// The mission named in the path, if the caller may see it (404 otherwise, so scopes do not leak ids).
    private func visibleMission(
        _ context: BasicRequestContext,
        principal: Principal
    ) async throws -> (id: MissionID, dto: MissionDTO) {
        let raw = try context.parameters.require("id")
        guard let id = MissionID(raw), let mission = try await service.mission(id),
            principal.may(access: mission.repository)
        else { throw APIError(.notFound, code: "not_found", "no mission \(raw)") }
        return (id, mission)
    }

    // MARK: - Creating missions

    func readBody(_ request: Request) async throws -> Data {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
            throw APIError(
                .contentTooLarge,
                code: "payload_too_large",
                "the body has \(length) bytes; the limit is \(configuration.maxBodyBytes)"
            )
        }
        var request = request
        do {
            var buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
            return Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(
                .contentTooLarge,
                code: "payload_too_large",
                "the body is larger than the limit of \(configuration.maxBodyBytes) bytes"
            )
        }
    }

    /// `POST /missions` and `POST /webhook`: validate, check scope and idempotency, create and start.
    private func submit(
        _ request: Request,
        context: BasicRequestContext,
        principal: Principal,
        fromWebhook: Bool
    ) async throws -> Response {
        let body = try await readBody(request)
        let mission = try MissionFields.decode(json: body)
        let repository = try resolveRepository(mission.repository)
        guard principal.may(access: repository) else {
            throw APIError(
                .forbidden,
                code: "forbidden",
                "token \(principal.name) may not start missions in \(repository)",
                fields: [.init(field: "repository", message: "is outside this token's scope")]
            )
        }
        if mission.dryRun == true {
            try await service.validate(mission, repository: repository)
            return JSONResponse.make(["valid": true])
        }
        let status: HTTPResponse.Status = fromWebhook ? .accepted : .created
        guard let key = request.headers[.idempotencyKey], !key.isEmpty else {
            return created(try await service.create(mission, repository: repository), status: status)
        }
        guard key.utf8.count <= 200 else {
            throw APIError(
                .badRequest,
                code: FlotillaError.Code.invalidInput.name,
                "Idempotency-Key must be at most 200 bytes",
                fields: [.init(field: "Idempotency-Key", message: "must be at most 200 bytes")]
            )
        }
        // A retry that arrives while the first delivery is still being handled is a duplicate too.
        let slot = "\(principal.name)\u{0}\(key)"
        guard await deliveriesInFlight.claim(slot) else { throw duplicate(key: key, mission: nil) }
        do {
            let response = try await createOnce(
                mission,
                repository: repository,
                principal: principal,
                key: key,
                status: status
            )
            await deliveriesInFlight.release(slot)
            return response
        } catch {
            await deliveriesInFlight.release(slot)
            throw error
        }
    }

    /// Creates the mission unless a delivery with the same key already did, and records the delivery.
    private func createOnce(
        _ mission: MissionFields,
        repository: String,
        principal: Principal,
        key: String,
        status: HTTPResponse.Status
    ) async throws -> Response {
        if let earlier = try await service.delivery(token: principal.name, key: key, repository: repository) {
            throw duplicate(key: key, mission: earlier)
        }
        let created = try await service.create(mission, repository: repository)
        guard let id = MissionID(created.id) else { throw APIError(.internalServerError, code: "internal", "bad id") }
        if let earlier = try await service.recordDelivery(
            token: principal.name,
            key: key,
            mission: id,
            repository: repository
        ) {
            throw duplicate(key: key, mission: earlier)
        }
        return self.created(created, status: status)
    }

    private func created(_ mission: MissionDTO, status: HTTPResponse.Status) -> Response {
        var response = JSONResponse.make(mission, status: status)
        response.headers[.location] = "/missions/\(mission.id)"
        return response
    }

    private func duplicate(key: String, mission: MissionID?) -> APIError {
        APIError(
            .conflict,
            code: "duplicate_delivery",
            "a delivery with Idempotency-Key \(key) was already accepted"
                + (mission.map { "; it started mission \($0)" } ?? " and is being handled"),
            missionID: mission?.rawValue
        )
    }

    private func resolveRepository(_ given: String?) throws -> String {
        let served = service.repositories
        guard let given else {
            guard served.count == 1 else {
                throw APIError(
                    .badRequest,
                    code: FlotillaError.Code.invalidInput.name,
                    "repository is required: this daemon serves \(served.count) repositories",
                    fields: [
                        .init(field: "repository", message: "is required (one of \(served.joined(separator: ", ")))")
                    ]
                )
            }
            return served[0]
        }
        let standardized = URL(fileURLWithPath: given).standardizedFileURL.path
        guard let match = served.first(where: { $0 == standardized }) else {
            throw APIError(
                .badRequest,
                code: FlotillaError.Code.invalidInput.name,
                "repository \(given) is not served by this daemon",
                fields: [.init(field: "repository", message: "is not served here (\(served.joined(separator: ", ")))")]
            )
        }
        return match
    }

    private static func deliveryResult(_ error: APIError) -> String {
        switch error.status {
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .tooManyRequests: "rate_limited"
        case .contentTooLarge: "too_large"
        case .conflict: "duplicate"
        case .badRequest: "invalid"
        default: "error"
        }
    }

    // MARK: - Monitoring

    private func metrics() async throws -> Response {
        var text = PrometheusText()
        try await service.statistics().render(into: &text)
        await counters.render(into: &text)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text.text))
        )
    }
}
