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
    /// Whether the REST routes' reads need a token too (always when listening beyond loopback); every call that
    /// changes something, and the webhook, always do.
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

    /// A configuration the daemon may start with: beyond loopback, tokens the user gave are required (the daemon's
    /// own, ``DaemonToken``, is added after this check: it is for this machine's user).
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
        return checked
    }
}

/// The daemon's HTTP API: REST over missions, a live event stream, the webhook, MCP, monitoring and the dashboard.
///
/// Each part is a controller that adds its routes; who may call is said by middleware in front of them
/// (``TokenAuthentication``), so no handler checks tokens itself.
package struct APIServer: Sendable {
    package let service: any MissionHost
    package let configuration: APIConfiguration
    package let counters = ServerCounters()
    package let readiness = Readiness()
    private let limiter = RateLimiter()
    let mcp: MCPEndpoint

    package init(service: any MissionHost, configuration: APIConfiguration) {
        self.service = service
        self.configuration = configuration
        mcp = MCPEndpoint(service: service)
    }

    /// Every route, with its handler.
    ///
    /// `OpenAPIDocument` describes the same set; a test holds them together.
    package func makeRouter() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        let allowed = AllowedMethods()
        router.add(middleware: AnswerMiddleware(counters: counters, allowed: allowed))
        router.add(middleware: BrowserGuard(loopbackOnly: configuration.isLoopback))
        let submission = MissionSubmission(service: service, maxBodyBytes: configuration.maxBodyBytes)
        let monitoring = MonitoringController(service: service, readiness: readiness, counters: counters)
        DashboardController().addRoutes(to: router)
        monitoring.addOpenRoutes(to: router)

        // The REST routes: a token for every change, and for reads too when tokens are required (or one is
        // presented); reads without one are the local user's.
        let callers = router.group()
            .add(
                middleware: TokenAuthentication(
                    tokens: configuration.tokens,
                    admission: configuration.requireToken ? .everyCall : .changes
                )
            )
            .group(context: CallerContext.self)
        monitoring.addRoutes(to: callers)
        MissionsController(service: service, configuration: configuration, submission: submission)
            .addRoutes(to: callers.group("/missions"))
        MCPController(endpoint: mcp, maxBodyBytes: configuration.maxBodyBytes).addRoutes(to: callers)

        // The webhook: always a token, and so many deliveries a minute per token; every delivery is counted.
        let deliveries = router.group("/webhook")
            .add(middleware: DeliveryCounting(counters: counters))
            .add(middleware: TokenAuthentication(tokens: configuration.tokens, admission: .everyCall))
            .add(middleware: DeliveryRateLimit(tokens: configuration.tokens, limiter: limiter))
            .group(context: CallerContext.self)
        WebhookController(submission: submission).addRoutes(to: deliveries)

        allowed.load(router.routes.map { ($0.method, $0.path.description) })
        return router
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
}
