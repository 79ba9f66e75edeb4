import FlotillaAPI
import FlotillaCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

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
            // A bare 500: what went wrong inside is for the daemon's log, not for whoever asked.
            return APIError(.internalServerError, code: "internal", "an internal error; the daemon's log says more")
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

/// Counts every answer by route and status, and turns every error into an ``ErrorDTO`` body; a path served for
/// other methods answers 405 with `Allow`.
struct AnswerMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let counters: ServerCounters
    let allowed: AllowedMethods

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError where !(error is APIError) && error.status == .notFound {
            let methods = allowed.methods(for: request.uri.path)
            let answer =
                methods.isEmpty
                ? APIError.from(error)
                : APIError(
                    .methodNotAllowed,
                    code: "method_not_allowed",
                    "\(request.method) is not served at \(request.uri.path); it takes \(methods.joined(separator: ", "))",
                    headers: [.allow: methods.joined(separator: ", ")]
                )
            response = try answer.response(from: request, context: context)
        } catch {
            let answer = APIError.from(error)
            if answer.status == .internalServerError {
                context.logger.error("\(request.method) \(request.uri.path): \(error)")
            }
            response = try answer.response(from: request, context: context)
        }
        await counters.request(route: context.endpointPath ?? "unmatched", status: Int(response.status.code))
        return response
    }
}

/// The methods each route path takes (`/missions/{id}`), filled in once the router is built.
final class AllowedMethods: Sendable {
    private let routes = Mutex<[(method: String, segments: [Substring])]>([])

    func load(_ served: [(HTTPRequest.Method, String)]) {
        routes.withLock { routes in
            routes = served.map { ($0.0.rawValue, $0.1.split(separator: "/")) }
        }
    }

    /// The methods served at `path`, sorted; a `{parameter}` segment matches any one segment.
    func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/")
        return routes.withLock { routes in
            Set(
                routes.filter { route in
                    route.segments.count == segments.count
                        && zip(route.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
                }.map(\.method)
            ).sorted()
        }
    }
}
