import FlotillaCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs each request in the sandbox its ``ProcessRequest/confinement`` asks for; requests without one (Flotilla's
/// own git) run as they are.
///
/// - `bwrap`: the process runs under bubblewrap (``BubblewrapCommand``). With the `allowlist` network policy it waits
///   at the start (a FIFO) until Flotilla has made listening sockets on the sandbox's loopback, which an
///   ``EgressProxy`` serves from outside for the length of the run.
/// - `none`: the process runs as the user; afterwards every orphan it left is ended (``OrphanSweep``).
package struct ConfiningProcessRunner: ProcessRunner {
    private let base: any ProcessRunner
    private let bubblewrap: String?

    /// - Parameters:
    ///   - base: Runs the processes.
    ///   - bubblewrap: The `bwrap` executable, when the machine has a working one (see ``SandboxProbe``).
    package init(base: any ProcessRunner, bubblewrap: String?) {
        self.base = base
        self.bubblewrap = bubblewrap
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
        var network: SandboxNetwork?
        defer { network?.close() }
        if confinement.network == .allowlist, !confinement.allowedHosts.isEmpty {
            let sandboxNetwork = try SandboxNetwork(allowing: confinement.allowedHosts)
            network = sandboxNetwork
            let url = "http://127.0.0.1:\(sandboxNetwork.proxyPort)"
            for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
                environment[name] = url
            }
            // Loopback servers on the list are reached directly, on their own ports.
            environment["NO_PROXY"] = sandboxNetwork.forwards.isEmpty ? "" : "localhost,127.0.0.1,::1"
            environment["no_proxy"] = environment["NO_PROXY"]
            let signal = BubblewrapCommand.startSignalInside
            command = ["/bin/sh", "-c", "read -r _ < \(signal) && exec \"$@\"", "flotilla-sandbox"] + command
        }
        var wrapped = request
        wrapped.executable = bubblewrap
        wrapped.environment = environment
        wrapped.arguments =
            BubblewrapCommand.arguments(
                for: confinement,
                workingDirectory: request.workingDirectory,
                environment: request.environment,
                startSignal: network?.startSignal
            ) + ["--"] + command
        wrapped.confinement = nil
        guard let network else { return try await base.run(wrapped) }

        let started = StartCapture(inner: ProcessTracking.current)
        let base = self.base
        let sandboxed = wrapped
        let result = try await withThrowingTaskGroup(of: ProcessResult?.self) { group in
            group.addTask {
                try await ProcessTracking.$current.withValue(started) { try await base.run(sandboxed) }
            }
            group.addTask {
                await network.open(once: started)
                return nil
            }
            var result: ProcessResult?
            while let next = try await group.next() {
                if let next {
                    result = next
                    group.cancelAll()
                }
            }
            return result
        }
        guard let result else { throw CancellationError() }
        if let transcript = request.outputFile, let note = network.note {
            if let handle = FileHandle(forWritingAtPath: transcript) {
                _ = try? handle.seekToEnd()
                try? handle.write(contentsOf: Data(("\n[flotilla: " + note + "]\n").utf8))
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

}

/// The tracker of a confined run: passes everything on, and says when bubblewrap has started (with its pid).
private final class StartCapture: ProcessTracker {
    let inner: (any ProcessTracker)?
    let signal = CompletionSignal()
    private let pid = Mutex<Int32?>(nil)

    init(inner: (any ProcessTracker)?) {
        self.inner = inner
    }

    var process: Int32? { pid.withLock { $0 } }

    func started(_ process: ProcessIdentity?, request: ProcessRequest) {
        inner?.started(process, request: request)
        pid.withLock { $0 = process?.pid }
        signal.signal()
    }

    func ended(_ process: ProcessIdentity) {
        inner?.ended(process)
    }
}

/// The `allowlist` policy for one sandbox: the proxy, and the start signal its first process waits for.
private final class SandboxNetwork: Sendable {
    let proxy: EgressProxy
    let proxyPort: UInt16
    let forwards: [UInt16]
    let directory: String
    var startSignal: String { directory + "/start" }
    private let problem = Mutex<String?>(nil)
    private let released = Mutex(false)

    init(allowing hosts: [String]) throws {
        proxy = EgressProxy(allowing: hosts)
        forwards = SandboxNetwork.loopbackPorts(hosts)
        proxyPort = SandboxNetwork.proxyPort(avoiding: forwards)
        directory = NSTemporaryDirectory() + "/flotilla-net-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard mkfifo(directory + "/start", 0o600) == 0 else {
            throw ProcessRunnerError.system("mkfifo", errno)
        }
    }

    /// What the session's transcript should say about the network, if anything.
    var note: String? {
        var parts: [String] = []
        if let problem = problem.withLock({ $0 }) { parts.append(problem) }
        let refused = Array(Set(proxy.refused)).sorted()
        if !refused.isEmpty {
            parts.append("the network policy refused connections to " + refused.joined(separator: ", "))
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// Once bubblewrap runs: makes the listeners on the sandbox's loopback, serves them, and lets the command start.
    func open(once started: StartCapture) async {
        _ = await started.signal.wait(timeout: .seconds(30))
        if let outer = started.process, let inner = await Self.namespaceProcess(under: outer) {
            do {
                proxy.serveProxy(on: try Sockets.listenInNamespace(of: inner, port: proxyPort))
                for port in forwards {
                    // A port below 1024 cannot be taken without privileges: that server stays reachable by proxy.
                    guard let listener = try? Sockets.listenInNamespace(of: inner, port: port) else { continue }
                    proxy.serveForward(on: listener, to: port)
                }
            } catch {
                problem.withLock { $0 = "the session has no network: \(error)" }
            }
        } else {
            problem.withLock { $0 = "the session has no network: its sandbox could not be found" }
        }
        release()
    }

    /// Lets the sandbox's first process go on, from a thread of its own: opening a FIFO waits for its reader.
    private func release() {
        let path = startSignal
        Thread.detachNewThread { [self] in
            let fd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
            if fd >= 0 {
                _ = "go\n".withCString { Glibc.write(fd, $0, 3) }
                Glibc.close(fd)
            }
            released.withLock { $0 = true }
        }
    }

    func close() {
        proxy.stop()
        // A writer still waiting for a reader that never came is let go: be the reader.
        if !released.withLock({ $0 }) {
            let fd = Glibc.open(startSignal, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            if fd >= 0 { Glibc.close(fd) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// bubblewrap's child inside the new namespaces (the sandbox's pid 1), once it is there.
    static func namespaceProcess(under outer: Int32) async -> Int32? {
        let ours = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")) ?? ""
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let children =
                (try? String(contentsOfFile: "/proc/\(outer)/task/\(outer)/children", encoding: .utf8))?
                .split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                ?? []
            for child in children {
                let theirs = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(child)/ns/net")) ?? ""
                if !theirs.isEmpty && theirs != ours { return child }
            }
            if !ProcessLiveness.isAlive(outer) { return nil }
            await KernelPolling.pause(.milliseconds(1))
        }
        return nil
    }

    /// Loopback `host:port` entries of the allowlist, whose ports are forwarded inside the sandbox.
    static func loopbackPorts(_ hosts: [String]) -> [UInt16] {
        Array(
            Set(
                hosts.compactMap(HostPattern.init).filter { $0.host == "127.0.0.1" && !$0.wildcard }.compactMap(\.port)
            )
        ).sorted()
    }

    /// The proxy's port inside the sandbox: 3128 unless a forwarded server has it.
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
                startSignal: nil
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
