import FlotillaCore
import Foundation

/// Runs each request in the sandbox its ``ProcessRequest/confinement`` asks for; requests without one (Flotilla's
/// own git) run as they are.
///
/// - `bwrap`: the process runs under bubblewrap (``BubblewrapCommand``); with the `allowlist` network policy an
///   ``EgressProxy`` serves it for the length of the run, and `flotilla sandbox-relay` carries its connections out.
/// - `none`: the process runs as the user; afterwards every orphan it left is ended (``OrphanSweep``).
package struct ConfiningProcessRunner: ProcessRunner {
    private let base: any ProcessRunner
    private let bubblewrap: String?
    private let relay: String?

    /// - Parameters:
    ///   - base: Runs the processes.
    ///   - bubblewrap: The `bwrap` executable, when the machine has a working one (see ``SandboxProbe``).
    ///   - relay: An executable that implements `sandbox-relay` (the `flotilla` binary), for the `allowlist` policy.
    package init(base: any ProcessRunner, bubblewrap: String?, relay: String?) {
        self.base = base
        self.bubblewrap = bubblewrap
        self.relay = relay
    }

    package func run(_ request: ProcessRequest) async throws -> ProcessResult {
        guard let confinement = request.confinement else { return try await base.run(request) }
        switch confinement.mode {
        case .bwrap:
            return try await runInBubblewrap(request, confinement)
        case .none, .auto:
            OrphanSweep.enable()
            let result = try await base.run(request)
            await OrphanSweep.sweep()
            return result
        }
    }

    private func runInBubblewrap(_ request: ProcessRequest, _ confinement: Confinement) async throws -> ProcessResult {
        guard let bubblewrap else { throw ProcessRunnerError.sandboxUnavailable("bubblewrap (bwrap) is not usable") }
        let executable = try ExecutableLocator.locate(
            request.executable,
            environment: request.environment,
            workingDirectory: request.workingDirectory
        )
        var confinement = confinement
        // The program itself must be there to run, wherever it is installed, and so must its interpreter.
        confinement.readable += Self.installation(of: executable)
        if let interpreter = Self.interpreter(of: executable, environment: request.environment) {
            confinement.readable += Self.installation(of: interpreter)
        }
        var environment = request.environment
        environment["TMPDIR"] = "/tmp"
        var command = [executable] + request.arguments
        var proxy: EgressProxy?
        var scratch: String?
        defer {
            proxy?.stop()
            if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
        }
        if confinement.network == .allowlist, !confinement.allowedHosts.isEmpty {
            guard let relay else { throw ProcessRunnerError.sandboxUnavailable("no sandbox relay for the allowlist") }
            let directory = NSTemporaryDirectory() + "/flotilla-net-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            scratch = directory
            let egress = try EgressProxy(allowing: confinement.allowedHosts, socketPath: directory + "/proxy.sock")
            egress.start()
            proxy = egress
            confinement.readable += Self.installation(of: relay)
            let forwards = Self.loopbackPorts(confinement.allowedHosts)
            let port = Self.proxyPort(avoiding: forwards)
            let url = "http://127.0.0.1:\(port)"
            for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
                environment[name] = url
            }
            // Loopback servers on the list are reached directly, through the relay's own listeners.
            environment["NO_PROXY"] = forwards.isEmpty ? "" : "localhost,127.0.0.1,::1"
            environment["no_proxy"] = environment["NO_PROXY"]
            command =
                [
                    relay, "sandbox-relay", "--socket", BubblewrapCommand.proxySocketInside, "--port", String(port),
                ] + forwards.flatMap { ["--forward", String($0)] } + ["--"] + command
        }
        var wrapped = request
        wrapped.executable = bubblewrap
        wrapped.environment = environment
        wrapped.arguments =
            BubblewrapCommand.arguments(
                for: confinement,
                workingDirectory: request.workingDirectory,
                environment: request.environment,
                proxySocket: proxy?.socketPath
            ) + ["--"] + command
        wrapped.confinement = nil
        let result = try await base.run(wrapped)
        if let proxy, let transcript = request.outputFile, !proxy.refused.isEmpty {
            let note =
                "\n[flotilla: the network policy refused connections to "
                + Array(Set(proxy.refused)).sorted().joined(separator: ", ") + "]\n"
            if let handle = FileHandle(forWritingAtPath: transcript) {
                _ = try? handle.seekToEnd()
                try? handle.write(contentsOf: Data(note.utf8))
                try? handle.close()
            }
        }
        return result
    }

    /// The directories an executable needs to run: where it is, where its link points, and its installation root
    /// when it sits in a `bin` directory (a virtual environment, a Node installation).
    static func installation(of executable: String) -> [String] {
        let resolved = URL(fileURLWithPath: executable).resolvingSymlinksInPath().path
        var directories: [String] = []
        for path in [executable, resolved] {
            let directory = (path as NSString).deletingLastPathComponent
            directories.append(directory)
            if (directory as NSString).lastPathComponent == "bin" {
                directories.append((directory as NSString).deletingLastPathComponent)
            }
        }
        return directories.filter { $0 != "/" && $0 != "/usr" && $0 != "/bin" && $0 != "/usr/bin" }
    }

    /// The interpreter a script names on its `#!` line (through `/usr/bin/env` too), if it is one.
    static func interpreter(of executable: String, environment: [String: String]) -> String? {
        let resolved = URL(fileURLWithPath: executable).resolvingSymlinksInPath().path
        guard let data = FileManager.default.regularFileContents(atPath: resolved, limit: 4 << 20)?.prefix(512),
            data.starts(with: Array("#!".utf8))
        else { return nil }
        let line = String(decoding: data.dropFirst(2).prefix { $0 != 10 }, as: UTF8.self)
        let words = line.split(separator: " ").map(String.init)
        guard let first = words.first else { return nil }
        if (first as NSString).lastPathComponent == "env",
            let name = words.dropFirst().first(where: { !$0.hasPrefix("-") })
        {
            return try? ExecutableLocator.locate(name, environment: environment, workingDirectory: "/")
        }
        return first
    }

    /// Loopback `host:port` entries of the allowlist, whose ports the relay listens on inside the sandbox.
    static func loopbackPorts(_ hosts: [String]) -> [UInt16] {
        Array(
            Set(
                hosts.compactMap(HostPattern.init).filter { $0.host == "127.0.0.1" && !$0.wildcard }.compactMap(\.port)
            )
        ).sorted()
    }

    /// The relay's proxy port: 3128 unless a forwarded server has it.
    static func proxyPort(avoiding forwards: [UInt16]) -> UInt16 {
        var port: UInt16 = 3128
        while forwards.contains(port) { port += 1 }
        return port
    }
}

/// Whether bubblewrap works on this machine: found, and able to start a sandbox (user namespaces may be disabled,
/// or a container may forbid them).
package enum SandboxProbe {
    package struct Result: Sendable, Equatable {
        /// The working `bwrap`, or nil.
        package var bubblewrap: String?
        /// Why not, when it does not work.
        package var problem: String?
    }

    /// Tries `bwrap` once: a sandbox as missions use it, running `true`.
    package static func probe(runner: any ProcessRunner, environment: [String: String]) async -> Result {
        let executable: String
        do {
            executable = try ExecutableLocator.locate("bwrap", environment: environment, workingDirectory: "/")
        } catch {
            return Result(
                bubblewrap: nil,
                problem: "bubblewrap is not installed (Debian, Ubuntu: apt-get install bubblewrap)"
            )
        }
        let confinement = Confinement(mode: .bwrap, network: .none)
        let request = ProcessRequest(
            executable: executable,
            arguments: BubblewrapCommand.arguments(
                for: confinement,
                workingDirectory: "/",
                environment: environment,
                proxySocket: nil
            ) + ["--", "/bin/sh", "-c", "exit 0"],
            workingDirectory: "/",
            environment: environment,
            timeout: .seconds(20)
        )
        guard let result = try? await runner.run(request) else {
            return Result(bubblewrap: nil, problem: "\(executable) could not be started")
        }
        if result.termination.isSuccess { return Result(bubblewrap: executable, problem: nil) }
        let said = result.standardError.trimmingWhitespace().split(separator: "\n").last.map(String.init) ?? ""
        return Result(bubblewrap: nil, problem: "\(executable) cannot create a sandbox here (\(said))")
    }
}
