import FlotillaAPI
import FlotillaCore
import FlotillaSystem
import Foundation

/// The webhook under load: a real `flotilla serve` on loopback, hit by concurrent clients.
package struct WebhookLoad {
    package struct Phase: Codable, Sendable {
        package var name: String
        package var requests: Int
        package var concurrency: Int
        package var requestsPerSecond: Double
        package var p50MS: Double
        package var p99MS: Double
        /// Status code → count: every request of a phase should get the phase's expected status.
        package var statuses: [String: Int]
    }

    package struct Result: Codable, Sendable {
        package var phases: [Phase]
    }

    let binary: String
    let environment: [String: String]

    package init(binary: String, environment: [String: String]) {
        self.binary = binary
        self.environment = environment
    }

    /// Starts a daemon on a fresh repository and runs each phase against it.
    package func run(requests: Int, concurrency: Int) async throws -> Result {
        let workspace = try Workspace(prefix: "flotilla-bench-webhook")
        defer { workspace.remove() }
        let repository = workspace.path("repo")
        try await LedgerFiller.fill(repository: repository, missions: 0, environment: environment)
        try "# Load\n\n## A\nCheck: true\n- [ ] a\n".write(
            toFile: (repository as NSString).appendingPathComponent("ACCEPTANCE.md"),
            atomically: true,
            encoding: .utf8
        )
        let token = "bench-token-0123456789"
        let tokens = workspace.path("tokens.json")
        try #"{"tokens": [{"name": "bench", "token": "\#(token)", "rate_per_minute": 1e9, "burst": 1000000}]}"#
            .write(toFile: tokens, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(
            binary: binary,
            arguments: ["serve", "--port", "0", "--repo", repository, "--token-file", tokens],
            environment: environment
        )
        defer { daemon.stop() }
        let port = try await daemon.port()

        let dryRun = Data(#"{"agent_command": "true", "dry_run": true}"#.utf8)
        let invalid = Data(#"{"agents": 0}"#.utf8)
        var phases: [Phase] = []
        phases.append(
            try await phase("dry run (auth, limits, validation, git preflight)", requests, concurrency) {
                try await APIClient(host: "127.0.0.1", port: port, token: token).send("POST", "/webhook", body: dryRun)
            }
        )
        phases.append(
            try await phase("invalid body (400)", requests, concurrency) {
                try await APIClient(host: "127.0.0.1", port: port, token: token).send(
                    "POST",
                    "/webhook",
                    body: invalid
                )
            }
        )
        phases.append(
            try await phase("bad token (401)", requests, concurrency) {
                try await APIClient(host: "127.0.0.1", port: port, token: "wrong-token-0123456789")
                    .send("POST", "/webhook", body: dryRun)
            }
        )
        return Result(phases: phases)
    }

    private func phase(
        _ name: String,
        _ requests: Int,
        _ concurrency: Int,
        _ send: @escaping @Sendable () async throws -> HTTPResponse
    ) async throws -> Phase {
        let started = ContinuousClock.now
        let perClient = max(1, requests / concurrency)
        let samples = try await withThrowingTaskGroup(of: [(Duration, Int)].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var samples: [(Duration, Int)] = []
                    for _ in 0..<perClient {
                        let before = ContinuousClock.now
                        let response = try await send()
                        samples.append((ContinuousClock.now - before, response.status))
                    }
                    return samples
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let wall = (ContinuousClock.now - started).seconds
        let latencies = samples.map(\.0)
        var statuses: [String: Int] = [:]
        for (_, status) in samples { statuses[String(status), default: 0] += 1 }
        return Phase(
            name: name,
            requests: samples.count,
            concurrency: concurrency,
            requestsPerSecond: Double(samples.count) / wall,
            p50MS: Statistics.percentile(latencies, 0.5).millisecondsDouble,
            p99MS: Statistics.percentile(latencies, 0.99).millisecondsDouble,
            statuses: statuses
        )
    }
}

/// `flotilla serve` as a child process, and the port it reports once listening.
private final class DaemonProcess: @unchecked Sendable {
    // SAFETY: configured before launch; afterwards only its pid is read and signalled.
    private let process = Process()
    private let output = Pipe()

    init(binary: String, arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Reads stdout until the "listening on http://HOST:PORT" line.
    func port() async throws -> Int {
        let reader = output.fileHandleForReading
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                var text = ""
                while true {
                    let data = reader.availableData
                    if data.isEmpty { break }
                    text += String(decoding: data, as: UTF8.self)
                    if let line = text.split(separator: "\n").first(where: { $0.contains("listening on") }),
                        let port = line.split(separator: ":").last.flatMap({ Int($0.split(separator: " ")[0]) })
                    {
                        continuation.resume(returning: port)
                        return
                    }
                }
                continuation.resume(throwing: BenchmarkError("flotilla serve ended before listening"))
            }.start()
        }
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
    }
}
