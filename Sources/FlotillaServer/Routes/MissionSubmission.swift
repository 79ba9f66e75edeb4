import FlotillaAPI
import FlotillaCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Creating a mission from a request (`POST /missions`, `POST /webhook`): validate, check the caller's scope and the
/// delivery's idempotency, create and start.
struct MissionSubmission: Sendable {
    let service: any MissionHost
    let maxBodyBytes: Int
    let deliveriesInFlight = InFlightKeys()

    /// Creates the mission the body describes, answering `status` (or 200 for a dry run); `source` is the way in
    /// (`api`, `webhook`), recorded with the mission.
    func submit(
        _ request: Request,
        caller: Principal,
        status: HTTPResponse.Status,
        source: String
    ) async throws -> Response {
        var mission = try MissionFields.decode(json: try await request.body(upTo: maxBodyBytes))
        mission.source = source
        let repository = try resolveRepository(mission.repository)
        guard caller.may(access: repository) else {
            throw APIError(
                .forbidden,
                code: "forbidden",
                "token \(caller.name) may not start missions in \(repository)",
                fields: [.init(field: "repository", message: "is outside this token's scope")]
            )
        }
        if mission.dryRun == true {
            try await service.validate(mission, repository: repository)
            return JSONResponse.make(["valid": true])
        }
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
        let slot = "\(caller.name)\u{0}\(key)"
        guard await deliveriesInFlight.claim(slot) else { throw duplicate(key: key, mission: nil) }
        do {
            let response = try await createOnce(
                mission,
                repository: repository,
                caller: caller,
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
        caller: Principal,
        key: String,
        status: HTTPResponse.Status
    ) async throws -> Response {
        if let earlier = try await service.delivery(token: caller.name, key: key, repository: repository) {
            throw duplicate(key: key, mission: earlier)
        }
        let created = try await service.create(mission, repository: repository)
        guard let id = MissionID(created.id) else { throw APIError(.internalServerError, code: "internal", "bad id") }
        if let earlier = try await service.recordDelivery(
            token: caller.name,
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
}

/// `POST /webhook`: what a CI system or a chat bot delivers, always with a token, rate-limited per token.
struct WebhookController: Sendable {
    let submission: MissionSubmission

    func addRoutes(to webhook: RouterGroup<CallerContext>) {
        webhook.post { request, context in
            try await submission.submit(request, caller: context.caller, status: .accepted, source: "webhook")
        }
    }
}

/// Health, readiness, metrics and the API's own description.
struct MonitoringController: Sendable {
    let service: any MissionHost
    let readiness: Readiness
    let counters: ServerCounters

    /// `/health` and `/ready`, open to all: a load balancer has no token.
    func addOpenRoutes(to router: Router<APIRequestContext>) {
        router.get("/health") { _, _ in JSONResponse.make(["status": "ok"]) }
        router.get("/ready") { _, _ in
            guard await readiness.isReady else {
                throw APIError(.serviceUnavailable, code: "starting", "still reconciling missions after start")
            }
            return JSONResponse.make(["status": "ready"])
        }
    }

    /// `/metrics` and `/openapi.json`, for callers.
    func addRoutes(to callers: RouterGroup<CallerContext>) {
        callers.get("/metrics") { _, _ in
            var text = PrometheusText()
            try await service.statistics().render(into: &text)
            await counters.render(into: &text)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text.text))
            )
        }
        callers.get("/openapi.json") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json))
            )
        }
    }
}
