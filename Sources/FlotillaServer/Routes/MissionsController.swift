import FlotillaAPI
import FlotillaCore
import Foundation
import HTTPTypes
import Hummingbird

/// `/missions`: list, create, read, follow and steer missions, each as far as the caller's token reaches.
struct MissionsController: Sendable {
    let service: any MissionHost
    let configuration: APIConfiguration
    let submission: MissionSubmission

    func addRoutes(to missions: RouterGroup<CallerContext>) {
        missions.get { request, context in
            // `?state=`, `?tag=` (repeatable: every one) and `?source=` narrow the list.
            let query = request.uri.queryParameters
            let state = query.get("state")
            if let state, !MissionDTO.states.contains(state) {
                throw APIError(
                    .badRequest,
                    code: FlotillaError.Code.invalidInput.name,
                    "state must be one of \(MissionDTO.states.joined(separator: ", "))",
                    fields: [.init(field: "state", message: "is not a mission state")]
                )
            }
            let tags = query.getAll("tag").map { String($0) }
            let missions = try await service.missions(in: context.caller.repositories).filter {
                $0.matches(state: state, tags: tags, source: query.get("source"))
            }
            return JSONResponse.make(MissionListDTO(missions: missions))
        }
        missions.post { request, context in
            try await submission.submit(request, caller: context.caller, status: .created, source: "api")
        }
        missions.get(":id") { _, context in JSONResponse.make(try await mission(context).dto) }
        missions.post(":id/stop") { request, context in
            let id = try await mission(context).id
            let wait = try QueryParameter.value(
                request.uri.queryParameters.get("wait"),
                "wait",
                default: 60.0,
                minimum: 0,
                maximum: 3600
            )
            let query = request.uri.queryParameters
            let end = try MissionEnd(named: query.get("end"), reason: query.get("reason"))
            return JSONResponse.make(try await service.stop(id, wait: .seconds(bounded: wait), end: end))
        }
        missions.post(":id/step") { request, context in
            let id = try await mission(context).id
            let attempts = try QueryParameter.value(
                request.uri.queryParameters.get("attempts"),
                "attempts",
                default: 1,
                minimum: 1,
                maximum: 1000
            )
            return JSONResponse.make(try await service.step(id, attempts: attempts))
        }
        missions.post(":id/resume") { _, context in
            JSONResponse.make(try await service.resume(try await mission(context).id))
        }
        missions.post(":id/approve") { request, context in
            let id = try await mission(context).id
            let groups = try APIServer.approvedGroups(try await request.body(upTo: configuration.maxBodyBytes))
            return JSONResponse.make(try await service.approve(id, groups: groups))
        }
        missions.post(":id/land") { request, context in
            let id = try await mission(context).id
            let onto = try APIServer.landing(try await request.body(upTo: configuration.maxBodyBytes))
            return JSONResponse.make(try await service.land(id, onto: onto))
        }
        missions.post(":id/check") { request, context in
            let id = try await mission(context).id
            let asked = try APIServer.check(try await request.body(upTo: configuration.maxBodyBytes))
            return JSONResponse.make(try await service.check(id, groups: asked.groups ?? [], commit: asked.commit))
        }
        missions.post(":id/reject") { request, context in
            let id = try await mission(context).id
            let rejection = try APIServer.rejection(try await request.body(upTo: configuration.maxBodyBytes))
            return JSONResponse.make(try await service.reject(id, groups: rejection.groups, reason: rejection.reason))
        }
        missions.get(":id/attempts") { _, context in
            JSONResponse.make(try await service.attempts(try await mission(context).id))
        }
        missions.get(":id/attempts/:sequence") { _, context in
            let id = try await mission(context).id
            let sequence = try attemptSequence(context)
            return JSONResponse.make(try await service.attempt(id, sequence: sequence))
        }
        missions.get(":id/attempts/:sequence/steps/:folder") { request, context in
            let id = try await mission(context).id
            let sequence = try attemptSequence(context)
            let file = request.uri.queryParameters.get("file") ?? "result.json"
            let folder = context.parameters.get("folder") ?? ""
            return JSONResponse.make(try await service.stepFile(id, sequence: sequence, folder: folder, file: file))
        }
        missions.get(":id/events") { request, context in
            let id = try await mission(context).id
            let query = request.uri.queryParameters
            let after = try QueryParameter.value(
                query.get("after"),
                "after",
                default: Int64(0),
                minimum: 0,
                maximum: QueryParameter.largestEventID
            )
            let limit = try QueryParameter.value(
                query.get("limit"),
                "limit",
                default: 1000,
                minimum: 1,
                maximum: 10_000
            )
            return JSONResponse.make(EventListDTO(events: try await service.events(id, after: after, limit: limit)))
        }
        missions.get(":id/stream") { request, context in
            let id = try await mission(context).id
            // The header, sent by a reconnecting EventSource, wins over the query; both must be valid.
            let after = try QueryParameter.value(
                request.uri.queryParameters.get("after"),
                "after",
                default: Int64(0),
                minimum: 0,
                maximum: QueryParameter.largestEventID
            )
            let lastEventID = try QueryParameter.value(
                request.headers[.lastEventID],
                "Last-Event-ID",
                default: after,
                minimum: 0,
                maximum: QueryParameter.largestEventID
            )
            return EventStream(service: service, configuration: configuration).response(mission: id, after: lastEventID)
        }
        missions.get(":id/checklist") { _, context in
            JSONResponse.make(try await service.checklist(try await mission(context).id))
        }
    }

    /// The `:sequence` of an attempt's route.
    private func attemptSequence(_ context: CallerContext) throws -> Int {
        try QueryParameter.value(
            context.parameters.get("sequence"),
            "sequence",
            default: 0,
            minimum: 1,
            maximum: Int(Int32.max)
        )
    }

    /// The mission named in the path, if the caller may see it (404 otherwise, so scopes do not leak ids).
    private func mission(_ context: CallerContext) async throws -> (id: MissionID, dto: MissionDTO) {
        let raw = try context.parameters.require("id")
        guard let id = MissionID(raw), let mission = try await service.mission(id),
            context.caller.may(access: mission.repository)
        else { throw APIError(.notFound, code: "not_found", "no mission \(raw)") }
        return (id, mission)
    }
}

/// Query parameters and headers that must be numbers in a range.
enum QueryParameter {
    /// The largest event id a client may name: JSON's largest exact integer.
    static let largestEventID: Int64 = 9_007_199_254_740_991

    /// Its default when absent, else a value from `minimum` (to `maximum`), or a 400 naming it.
    static func value<Value: LosslessStringConvertible & Comparable>(
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
}

extension Request {
    /// The whole body, refused with 413 beyond `limit` bytes (by its `Content-Length` before it is read).
    func body(upTo limit: Int) async throws -> Data {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(
                .contentTooLarge,
                code: "payload_too_large",
                "the body has \(length) bytes; the limit is \(limit)"
            )
        }
        var request = self
        do {
            var buffer = try await request.collectBody(upTo: limit)
            return Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(
                .contentTooLarge,
                code: "payload_too_large",
                "the body is larger than the limit of \(limit) bytes"
            )
        }
    }
}
