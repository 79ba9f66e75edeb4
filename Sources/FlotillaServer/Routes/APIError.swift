import FlotillaAPI
import FlotillaCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An error answer of the API, always with an ``ErrorDTO`` body.
package struct APIError: Error, HTTPResponseError, Sendable {
    package var status: HTTPResponse.Status
    package var body: ErrorDTO
    package var headers: HTTPFields

    package init(
        _ status: HTTPResponse.Status,
        code: String,
        _ message: String,
        fields: [ErrorDTO.FieldError]? = nil,
        missionID: String? = nil,
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.body = ErrorDTO(code: code, message: message, fields: fields, missionID: missionID)
        self.headers = headers
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(body, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    /// Any error thrown below the routes, as the API reports it.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as FlotillaError:
            return APIError(
                HTTPResponse.Status(code: error.code.httpStatus),
                code: error.code.name,
                error.message,
                fields: error.fields.isEmpty ? nil : error.fields
            )
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound: return APIError(.notFound, code: "not_found", "no such route; see GET /openapi.json")
            case .contentTooLarge:
                return APIError(.contentTooLarge, code: "payload_too_large", "the request body is too large")
            default: return APIError(error.status, code: "http_\(error.status.code)", error.status.reasonPhrase)
            }
        default:
            return APIError(.internalServerError, code: "internal", "\(error)")
        }
    }
}

enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? APIJSON.encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data + Data("\n".utf8)))
        )
    }
}

/// Counts every answer by route and status, and turns every error into an ``ErrorDTO`` body.
struct AnswerMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let counters: ServerCounters

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = try APIError.from(error).response(from: request, context: context)
        }
        await counters.request(route: context.endpointPath ?? "unmatched", status: Int(response.status.code))
        return response
    }
}
