import FlotillaCore
import HTTPTypes
import Hummingbird

/// Says who calls: the holder of a bearer token, or the local user.
///
/// The local user is whoever calls an open loopback API without presenting a token. The webhook, and every route
/// when tokens are required, need a valid token.
struct TokenAuthentication: RouterMiddleware {
    let tokens: AccessTokens
    /// Whether a request without a token is refused (else it is the local user).
    let required: Bool

    func handle(
        _ request: Request,
        context: APIRequestContext,
        next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.principal = try principal(of: request)
        return try await next(request, context)
    }

    private func principal(of request: Request) throws -> Principal {
        guard let header = request.headers[.authorization] else {
            guard required else { return .local }
            throw APIError(
                .unauthorized,
                code: "unauthorized",
                "an Authorization: Bearer token is required",
                headers: [.wwwAuthenticate: "Bearer"]
            )
        }
        guard let principal = tokens.authenticate(header) else {
            throw APIError(
                .unauthorized,
                code: "unauthorized",
                "the bearer token is not valid",
                headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""]
            )
        }
        return principal
    }
}

/// The webhook's rate limit per token: a burst, then so many a minute; over it, 429 with `Retry-After`.
struct DeliveryRateLimit: RouterMiddleware {
    let tokens: AccessTokens
    let limiter: RateLimiter

    func handle(
        _ request: Request,
        context: APIRequestContext,
        next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        if let principal = context.principal, let limit = tokens.limit(for: principal.name),
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
        return try await next(request, context)
    }
}

/// Counts webhook deliveries by how they ended (`flotilla_webhook_deliveries_total{result=…}`), refused ones too.
struct DeliveryCounting: RouterMiddleware {
    let counters: ServerCounters

    func handle(
        _ request: Request,
        context: APIRequestContext,
        next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            let response = try await next(request, context)
            await counters.delivery(response.status == .ok ? "dry_run" : "accepted")
            return response
        } catch {
            let answer = APIError.from(error)
            await counters.delivery(Self.result(answer))
            throw answer
        }
    }

    private static func result(_ error: APIError) -> String {
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
}
