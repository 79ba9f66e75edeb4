import HTTPTypes
import Hummingbird

/// Keeps other web pages away from the API: what a browser is made to send on another site's behalf is refused.
///
/// - A request that changes something (not GET or HEAD) from another site is refused: `Sec-Fetch-Site` says so in
///   current browsers, `Origin` in older ones. Clients other than browsers send neither and pass.
/// - On loopback, a `Host` that is not a loopback name is refused, so that a site whose name is made to resolve to
///   127.0.0.1 (DNS rebinding) cannot read the API with the user's browser.
struct BrowserGuard: RouterMiddleware {
    typealias Context = APIRequestContext
    let loopbackOnly: Bool

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let host = request.head.authority
        if loopbackOnly, let host, !Self.isLoopback(host) {
            throw APIError(
                .forbidden,
                code: "foreign_host",
                "this daemon listens on loopback and answers only to a loopback Host (got \(host))"
            )
        }
        if request.method != .get && request.method != .head {
            if let site = request.headers[.secFetchSite], site != "same-origin", site != "none" {
                throw APIError(.forbidden, code: "cross_site", "\(request.method) from another site is refused")
            }
            if let origin = request.headers[.origin], origin != "null" {
                let originHost = origin.split(separator: "://", maxSplits: 1).last.map(String.init)
                if originHost != host {
                    throw APIError(
                        .forbidden,
                        code: "cross_site",
                        "\(request.method) from origin \(origin) is refused: it is not this daemon's page"
                    )
                }
            } else if request.headers[.origin] == "null" {
                throw APIError(.forbidden, code: "cross_site", "\(request.method) from an opaque origin is refused")
            }
        }
        return try await next(request, context)
    }

    /// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
    static func isLoopback(_ authority: String) -> Bool {
        var name = Substring(authority)
        if name.hasPrefix("[") {
            name = name.dropFirst().prefix { $0 != "]" }
            return name == "::1"
        }
        name = name.prefix { $0 != ":" }
        return name == "localhost" || name.hasPrefix("127.")
    }
}
