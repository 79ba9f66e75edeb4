import FlotillaCore
import FlotillaEngine
import FlotillaSystem
import Foundation

/// What the sandbox adds to each process it confines: a session-sized command (a shell that writes a file in its
/// checkout) run unconfined, and confined as missions confine sessions and verify runs, interleaved so that the
/// machine's load falls on all of them alike.
///
/// An attempt confines two processes (its session, then its gate), so the cost per attempt is about twice the cost
/// per process; the session's network policy decides which figure applies to it. The last two policies are the
/// session and the gate as a mission runs them: the session with the agent tools' settings read before it and
/// compared after (``SettingsWatch``), the gate with its harness files bound read-only and a key file masked.
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
        /// The same, for the session and the gate as a mission runs them (settings watched, harness read-only).
        package var addedPerAttemptAsRunP50MS: Double?
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
        // What a gate keeps read-only: a verify script, the script it runs and a Makefile, as a harness has them.
        var harness: [String] = []
        for name in ["verify.sh", "checks.sh", "Makefile"] {
            let path = checkout + "/" + name
            try "#!/bin/sh\nexit 0\n".write(toFile: path, atomically: true, encoding: .utf8)
            harness.append(path)
        }
        let keyFile = workspace.path("anthropic.key")
        try "sk-ant-bench\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        var watched = SandboxSettings(mode: .bwrap)
        if let home = environment["HOME"] {
            watched.toolSettings = ToolSettings.guarded(home: home, environment: environment)
        }
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
        var gate = confinement(.bwrap, .none)
        gate.fixed = harness
        gate.masked = [keyFile]
        var session = confinement(.bwrap, .allowlist)
        session.masked = [keyFile]
        let policies: [(String, Confinement?, watches: Bool)] = [
            ("unconfined", nil, false),
            ("none (orphans swept)", confinement(.none, .open), false),
            ("bwrap, network open", confinement(.bwrap, .open), false),
            ("bwrap, network none", confinement(.bwrap, .none), false),
            ("bwrap, network allowlist", confinement(.bwrap, .allowlist), false),
            ("session as run: allowlist, tool settings watched", session, true),
            ("gate as run: network none, harness read-only", gate, false),
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
                let watch = policy.watches ? SettingsWatch.capture(watched) : nil
                let result = try await runner.run(request)
                _ = watch?.restore()
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
        let asRun = measured.filter { $0.name.hasPrefix("session as run") || $0.name.hasPrefix("gate as run") }
        return Result(
            runs: runs,
            unconfinedP50MS: unconfined,
            policies: measured,
            addedPerAttemptP50MS: allowlist + none,
            addedPerAttemptAsRunP50MS: asRun.map(\.addedP50MS).reduce(0, +)
        )
    }
}
