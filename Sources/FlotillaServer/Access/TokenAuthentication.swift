import FlotillaCore
import HTTPTypes
import Hummingbird

/// Says who calls: the holder of a bearer token, or the local user.
///
/// The local user is whoever reads an open loopback API without presenting a token. Every call that changes
/// something needs a valid token, on loopback too: a process that can reach loopback (an agent's sandbox with the
/// network open) is not thereby the user. The webhook, and every route when tokens are required, need one for reads
/// as well.
struct TokenAuthentication: RouterMiddleware {
    /// Which requests need a token.
    enum Admission: Sendable {
        /// Every request.
        case everyCall
        /// Every request but reads (`GET`, `HEAD`), which are the local user's without one.
        case changes
    }

    let tokens: AccessTokens
    let admission: Admission

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
            if admission == .changes, request.method == .get || request.method == .head { return .local }
            throw APIError(
                .unauthorized,
                code: "unauthorized",
                admission == .changes
                    ? "an Authorization: Bearer token is required for calls that change something, on loopback too "
                        + "(the daemon's own is in .flotilla/daemon.token of each repository it serves)"
                    : "an Authorization: Bearer token is required",
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
