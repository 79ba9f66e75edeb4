import ArgumentParser
import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaServer
import FlotillaService
import Foundation
import Logging

extension Flotilla {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract:
                "Run the daemon: an HTTP API, live event streams and a webhook over the missions of repositories.",
            discussion: """
                Serves the repositories given with --repo (default: the current one) until SIGTERM or Ctrl-C. \
                Missions it starts run in background processes of their own, like `run --detach`. It watches every \
                running mission of its repositories: one whose process died shows as crashed and is resumed, at \
                once the first time and after a growing wait the next ones, up to --restart-limit restarts in 10 \
                minutes; each is recorded as a mission.crashed event. While it runs, `status`, `list`, `stop`, `resume`, `approve` \
                and `logs -f` go through it. The API is described at GET /openapi.json.

                Access: the API listens on loopback unless --host says otherwise, and then needs tokens. \
                Every call that changes something (starting, stopping, approving a mission; MCP) needs a bearer \
                token, on loopback too: an agent's sandbox that reaches loopback is not you. The daemon makes one \
                for you at each start, in .flotilla/daemon.token of each repository it serves (readable by you \
                alone, hidden from every sandbox); the CLI presents it, and the dashboard asks for it. Reads on \
                loopback need none unless --require-token. POST /webhook always needs a token. Tokens of your own \
                come from --token-file, a JSON file {"tokens": [{"name": "ci", "token": "at least 16 characters", \
                "repositories": ["/path"], "rate_per_minute": 60, "burst": 10}]} (repositories and limits \
                optional), or FLOTILLA_API_TOKEN.

                Confinement: a mission created through the API, the webhook or MCP runs in at least the sandbox \
                --min-sandbox names: bubblewrap wherever it works here, so a caller cannot ask for an agent that \
                runs as you. `--min-sandbox none` lets callers choose.
                """
        )

        @Option(name: .long, help: "A repository to serve (repeatable; default: the one containing this directory).")
        var repo: [String] = []

        @Option(help: "Address to listen on; anything but loopback requires tokens.")
        var host = "127.0.0.1"

        @Option(help: "Port to listen on (0: any free port, printed once listening).")
        var port = 8470

        @Option(help: "JSON file of bearer tokens (see above).")
        var tokenFile: String?

        @Flag(help: "Require a token for reads too (every route but /health and /ready), even on loopback.")
        var requireToken = false

        @Option(
            help: ArgumentHelp(
                "The least confinement of a mission created through the daemon: auto, bwrap or none.",
                discussion: "auto (the default) is bwrap where bubblewrap works here, else none, said at start."
            )
        )
        var minSandbox: SandboxMode = .auto

        @Option(help: "Webhook deliveries per minute per token, unless its entry says otherwise.")
        var ratePerMinute: Double = 60

        @Option(help: "Webhook deliveries a token may make at once before the rate applies.")
        var burst = 10

        @Option(help: "Largest request body accepted, in bytes (larger: 413).")
        var maxBodyBytes = 1 << 20

        @Option(help: "Restarts of a crashed mission within 10 minutes before the daemon leaves it crashed (0: none).")
        var restartLimit = 3

        @Option(help: "Seconds before the second restart of a crashed mission; doubles with each one after, up to 60.")
        var restartBackoff: Double = 1

        @Option(help: "Seconds between looks at the running missions' processes.")
        var checkInterval: Double = 2

        @Option(
            help: """
                Missions that may run at once, over every served repository: one created while this many run waits, \
                `queued` (in `list`, the API and the dashboard), and starts when one ends, first in first out. The \
                queue is kept in the ledgers, so a restarted daemon goes on with it. Default: no limit.
                """
        )
        var maxRunning: Int?

        func validate() throws {
            guard restartLimit >= 0 else { throw ValidationError("--restart-limit must be at least 0") }
            guard restartBackoff >= 0 else { throw ValidationError("--restart-backoff must be at least 0") }
            guard checkInterval >= 0.05 else { throw ValidationError("--check-interval must be at least 0.05") }
            if let maxRunning, maxRunning < 1 { throw ValidationError("--max-running must be at least 1") }
            guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
            guard ratePerMinute > 0 else { throw ValidationError("--rate-per-minute must be more than 0") }
            guard burst >= 1 else { throw ValidationError("--burst must be at least 1") }
            guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        }

        func run() async throws {
            let composition = Composition()
            var roots: [String] = []
            for path in repo.isEmpty ? [nil] : repo.map(Optional.some) {
                let root = try await composition.repositoryRoot(path)
                if !roots.contains(root) { roots.append(root) }
            }
            try refuseSecondDaemon(roots, table: composition.processTable)
            var configuration = APIConfiguration()
            configuration.host = host
            configuration.port = port
            configuration.requireToken = requireToken
            configuration.maxBodyBytes = maxBodyBytes
            configuration.tokens = try tokens(roots: roots, environment: composition.environment)
            do {
                configuration = try configuration.checked()
            } catch {
                throw FlotillaError.invalid(error.description)
            }
            // The daemon's own token, for this machine's user: every change needs a token, on loopback too.
            let localToken = DaemonToken.generate()
            do throws(TokenFileError) {
                try configuration.tokens.add(
                    name: "local",
                    secret: localToken,
                    limit: RateLimit(perMinute: ratePerMinute, burst: burst)
                )
            } catch {
                throw FlotillaError.invalid(error.description)
            }
            let served = roots
            let requiresToken = configuration.requireToken
            let missions = try LocalMissions(
                composition: composition,
                repositories: served,
                createLedgers: true,
                supervised: restartLimit > 0,
                floor: try await floor(composition),
                maxRunning: maxRunning
            )
            let supervisor = Supervisor(
                missions: missions,
                policy: try restartPolicy(),
                logger: Logger(label: "flotilla.supervisor") { _ in ConsoleLogHandler() },
                clock: ContinuousClock(),
                schedules: ScheduleFiring()
            )
            let notifications = NotificationDeliveryService(
                missions: missions,
                courier: NotificationCourier(environment: composition.environment, processes: composition.processes)
            )
            let server = APIServer(service: missions, configuration: configuration)
            let written = DaemonFiles()
            do {
                try await serve(
                    server,
                    composition: composition,
                    supervisor: supervisor,
                    notifications: notifications,
                    served: served,
                    written: written,
                    requiresToken: requiresToken,
                    localToken: localToken
                )
            } catch  where written.get() == nil {
                throw FlotillaError.invalid("cannot listen on \(host):\(port): \(error) (--port 0 picks a free port)")
            }
            if let info = written.get() {
                for root in roots {
                    let stateDirectory = MissionLayout(repository: root).stateDirectory
                    info.remove(stateDirectory: stateDirectory)
                    DaemonToken.remove(localToken, stateDirectory: stateDirectory)
                }
            }
            Console.err("flotilla serve: stopped; missions it started keep running (see `flotilla list`)")
        }

        /// Runs the server until a shutdown signal; once it listens, writes the daemon files, reconciles the
        /// missions, and says where it listens.
        private func serve(
            _ server: APIServer,
            composition: Composition,
            supervisor: Supervisor<ContinuousClock>,
            notifications: NotificationDeliveryService,
            served: [String],
            written: DaemonFiles,
            requiresToken: Bool,
            localToken: String
        ) async throws {
            var logger = Logger(label: "flotilla.serve")
            logger.logLevel = .notice
            try await server.run(logger: logger, services: [supervisor, notifications]) { boundPort in
                guard let process = composition.processTable.current() else { return }
                let info = DaemonInfo(
                    process: process,
                    host: host,
                    port: boundPort,
                    version: Flotilla.version,
                    repositories: served,
                    tokenRequired: requiresToken,
                    startedAt: Date()
                )
                for root in served {
                    let stateDirectory = MissionLayout(repository: root).stateDirectory
                    do {
                        try DaemonToken.write(localToken, stateDirectory: stateDirectory)
                        try info.write(stateDirectory: stateDirectory)
                    } catch {
                        Console.err("warning: cannot write \(root)/.flotilla/daemon.json and daemon.token: \(error)")
                    }
                }
                written.set(info)
                // Missions whose process died while no daemon watched are resumed before it says it is ready.
                for action in await supervisor.check() { Console.err(action) }
                await server.readiness.markReady()
                // Printed once ready: scripts (and tests) may start sending requests when they see it.
                Console.out(
                    "flotilla serve: listening on http://\(info.urlHost):\(boundPort) for \(served.joined(separator: ", "))"
                )
            }
        }

        /// The least confinement of the missions callers create: `--min-sandbox`, with `auto` resolved here.
        private func floor(_ composition: Composition) async throws -> SandboxMode {
            let (floor, problem) = try await composition.resolve(minSandbox, flag: "--min-sandbox")
            guard let problem else { return floor }
            Console.err(
                "warning: no sandbox floor: \(problem); missions created through the API run as you unless they ask "
                    + "for a sandbox (see docs/SECURITY.md)"
            )
            return .none
        }

        private func restartPolicy() throws -> SupervisionPolicy {
            var policy = SupervisionPolicy()
            policy.limit = restartLimit
            policy.backoff = .seconds(restartBackoff)
            policy.interval = .seconds(checkInterval)
            return policy
        }

        private func refuseSecondDaemon(_ roots: [String], table: any ProcessTable) throws {
            for root in roots {
                if let info = DaemonInfo.read(stateDirectory: MissionLayout(repository: root).stateDirectory),
                    table.isRunning(info.process)
                {
                    throw FlotillaError.invalid(
                        "\(root) is already served by process \(info.process.pid) on port \(info.port); stop it first"
                    )
                }
            }
        }

        private func tokens(roots: [String], environment: [String: String]) throws -> AccessTokens {
            let limit = RateLimit(perMinute: ratePerMinute, burst: burst)
            do throws(TokenFileError) {
                var tokens = AccessTokens()
                if let tokenFile {
                    tokens = try AccessTokens.read(path: tokenFile, defaultLimit: limit) { given in
                        let standardized = URL(fileURLWithPath: given).standardizedFileURL.path
                        return roots.first { $0 == standardized }
                    }
                }
                if let secret = environment["FLOTILLA_API_TOKEN"], !secret.isEmpty {
                    try tokens.add(name: "env", secret: secret, limit: limit)
                }
                return tokens
            } catch {
                throw FlotillaError.invalid(error.description)
            }
        }
    }
}

/// The daemon file as written, for removing it on the way out.
private final class DaemonFiles: @unchecked Sendable {
    // Written once when the server starts listening, read once after it stops.
    private let lock = NSLock()
    private var info: DaemonInfo?

    func set(_ info: DaemonInfo) { lock.withLock { self.info = info } }
    func get() -> DaemonInfo? { lock.withLock { info } }
}
