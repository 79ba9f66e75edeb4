import FlotillaCore
import FlotillaSystem
import Foundation

/// What the sandbox adds to each process it confines: a session-sized command (a shell that writes a file in its
/// checkout) run unconfined, and confined as missions confine sessions and verify runs, interleaved so that the
/// machine's load falls on all of them alike.
///
/// An attempt confines two processes (its session, then its gate), so the cost per attempt is about twice the cost
/// per process; the session's network policy decides which figure applies to it.
package struct SandboxCost {
    package struct Result: Codable, Sendable {
        package struct Policy: Codable, Sendable {
            package var name: String
            package var p50MS: Double
            package var p90MS: Double
            /// The median added to an unconfined run.
            package var addedP50MS: Double
        }

        package var runs: Int
        package var unconfinedP50MS: Double
        package var policies: [Policy]
        /// A session with the default network for CLIs (allowlist) plus a gate (no network), over two unconfined runs.
        package var addedPerAttemptP50MS: Double?
        /// Why nothing was measured (no working bubblewrap).
        package var skipped: String?
    }

    let environment: [String: String]

    package init(environment: [String: String]) {
        self.environment = environment
    }

    package func measure(runs: Int) async throws -> Result {
        let base = SubprocessRunner()
        let probe = await SandboxProbe.probe(runner: base, environment: environment)
        guard let bubblewrap = probe.bubblewrap else {
            return Result(runs: 0, unconfinedP50MS: 0, policies: [], skipped: probe.problem)
        }
        let workspace = try Workspace(prefix: "flotilla-bench-sandbox")
        defer { workspace.remove() }
        let repository = workspace.path("repo")
        let checkout = repository + "/.flotilla/worktrees/m-00000000/agent-1"
        try FileManager.default.createDirectory(atPath: checkout, withIntermediateDirectories: true)
        let runner = ConfiningProcessRunner(base: base, bubblewrap: bubblewrap)
        func confinement(_ mode: SandboxMode, _ network: NetworkAccess) -> Confinement {
            Confinement(
                mode: mode,
                writable: [checkout],
                readable: [repository],
                hidden: [repository + "/.flotilla"],
                network: network,
                allowedHosts: network == .allowlist ? ["api.anthropic.com"] : []
            )
        }
        let policies: [(String, Confinement?)] = [
            ("unconfined", nil),
            ("none (orphans swept)", confinement(.none, .open)),
            ("bwrap, network open", confinement(.bwrap, .open)),
            ("bwrap, network none", confinement(.bwrap, .none)),
            ("bwrap, network allowlist", confinement(.bwrap, .allowlist)),
        ]
        var times = Array(repeating: [Duration](), count: policies.count)
        for _ in 0..<runs {
            for (index, policy) in policies.enumerated() {
                var request = ProcessRequest.shell(
                    "echo 'a ok' > a.txt",
                    workingDirectory: checkout,
                    environment: environment
                )
                request.confinement = policy.1
                let started = ContinuousClock.now
                let result = try await runner.run(request)
                times[index].append(ContinuousClock.now - started)
                guard result.termination.isSuccess else {
                    throw BenchmarkError("\(policy.0): the command failed: \(result.outputTail.utf8Tail(2000))")
                }
            }
        }
        let unconfined = Statistics.median(times[0]).millisecondsDouble
        let measured = policies.indices.dropFirst().map { index in
            let p50 = Statistics.median(times[index]).millisecondsDouble
            return Result.Policy(
                name: policies[index].0,
                p50MS: p50,
                p90MS: Statistics.percentile(times[index], 0.9).millisecondsDouble,
                addedP50MS: p50 - unconfined
            )
        }
        let allowlist = measured.first { $0.name.hasSuffix("allowlist") }?.addedP50MS ?? 0
        let none = measured.first { $0.name.hasSuffix("network none") }?.addedP50MS ?? 0
        return Result(
            runs: runs,
            unconfinedP50MS: unconfined,
            policies: measured,
            addedPerAttemptP50MS: allowlist + none
        )
    }
}
