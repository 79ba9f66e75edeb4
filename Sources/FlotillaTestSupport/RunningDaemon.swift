import FlotillaAPI
import FlotillaCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `flotilla serve` started by a test: waits for its "listening" line (a signal, not a sleep) and talks to it.
package final class RunningDaemon: @unchecked Sendable {
    // SAFETY: `process` is configured before launch and only signalled or read after.
    private let process = Process()
    private let exited = CompletionSignal()
    private let lines = OutputLines()
    private let errorLines = OutputLines()
    package let port: Int
    /// The token the daemon made for its user (`.flotilla/daemon.token` of the first repository it serves).
    package let localToken: String?
    package let standardError: TemporaryDirectory

    /// Starts `flotilla serve --port 0 ARGUMENTS` in `directory`; throws if it does not listen within `timeout`.
    package init(
        _ arguments: [String],
        in directory: String,
        environment extra: [String: String] = [:],
        timeout: Duration = .seconds(180)
    ) async throws {
        standardError = try TemporaryDirectory(prefix: "flotilla-daemon")
        process.executableURL = URL(fileURLWithPath: try FlotillaBinary.path())
        process.arguments = ["serve", "--port", "0"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = FixtureRepository.environment
        environment["CI"] = "true"
        environment.merge(extra) { $1 }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        _ = FileManager.default.createFile(atPath: standardError.file("stderr"), contents: nil)
        // Its log goes to a file (``errorOutput``) and, line by line, to those waiting for a line (``waitForLog``).
        let errors = Pipe()
        process.standardError = errors
        let errorLines = self.errorLines
        let errorFile = FileHandle(forWritingAtPath: standardError.file("stderr"))
        Thread {
            errorLines.drain(errors.fileHandleForReading, copyingTo: errorFile)
        }.start()
        process.standardInput = FileHandle.nullDevice
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()

        // The first line says where it listens; the reader then keeps draining stdout until the daemon exits.
        let listening = CompletionSignal()
        let reader = output.fileHandleForReading
        let lines = self.lines
        Thread {
            var pending = Data()
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                pending.append(data)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending = Data(pending[(newline + 1)...])
                    lines.append(line)
                    if line.contains("listening on") { listening.signal() }
                }
            }
            listening.signal()
        }.start()
        let ready = await listening.wait(timeout: timeout)
        let line = lines.first { $0.contains("listening on") }
        guard ready, let line, let port = line.split(separator: ":").last.flatMap({ Int($0.split(separator: " ")[0]) })
        else {
            process.terminate()
            _ = await exited.wait(timeout: .seconds(10))
            let stderr = (try? standardError.read("stderr")) ?? ""
            throw FixtureError("flotilla serve did not start listening: \(stderr)")
        }
        self.port = port
        // "listening on http://host:port for /root, /other": the token is written before the line is printed.
        let served = line.components(separatedBy: " for ").last?.components(separatedBy: ", ").first ?? directory
        localToken = DaemonToken.read(stateDirectory: (served as NSString).appendingPathComponent(".flotilla"))
    }

    /// A client presenting `token`, else the daemon's own (as the CLI does).
    package func client(token: String? = nil) -> APIClient {
        APIClient(host: "127.0.0.1", port: port, token: token ?? localToken, patient: true)
    }

    /// A client presenting no token: a process on this machine that is not the user (an agent's sandbox).
    package func anonymousClient() -> APIClient {
        APIClient(host: "127.0.0.1", port: port, patient: true)
    }

    /// Stops the daemon as a service manager would (SIGTERM) and waits for it; returns its exit status.
    @discardableResult
    package func stop(timeout: Duration = .seconds(30)) async -> Int32? {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        guard await exited.wait(timeout: timeout) else {
            kill(process.processIdentifier, SIGKILL)
            _ = await exited.wait(timeout: .seconds(10))
            return nil
        }
        return process.terminationStatus
    }

    package var errorOutput: String { (try? standardError.read("stderr")) ?? "" }

    /// Waits until the daemon has logged `count` lines containing `text`; false if it had not within `timeout` (a
    /// backstop, not a wait).
    package func waitForLog(_ text: String, count: Int = 1, timeout: Duration = .seconds(120)) async -> Bool {
        await errorLines.wait(timeout: timeout, count: count) { $0.contains(text) }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        standardError.remove()
    }
}

/// Lines a process printed, appended by a reading thread.
private final class OutputLines: @unchecked Sendable {
    // SAFETY: every access holds `lock`.
    private let lock = NSLock()
    private var lines: [String] = []

    private var waiters: [(matches: (String) -> Bool, count: Int, signal: CompletionSignal)] = []

    func append(_ line: String) {
        let due = lock.withLock { () -> [CompletionSignal] in
            lines.append(line)
            let due = waiters.filter { waiter in lines.filter(waiter.matches).count >= waiter.count }
            waiters.removeAll { waiter in lines.filter(waiter.matches).count >= waiter.count }
            return due.map(\.signal)
        }
        for signal in due { signal.signal() }
    }

    /// Waits until `count` lines match; false if they did not within `timeout`.
    func wait(timeout: Duration, count: Int, _ matches: @escaping (String) -> Bool) async -> Bool {
        let signal = CompletionSignal()
        let already = lock.withLock { () -> Bool in
            if lines.filter(matches).count >= count { return true }
            waiters.append((matches, count, signal))
            return false
        }
        return already ? true : await signal.wait(timeout: timeout)
    }

    /// Reads `handle` to its end, keeping each line and copying every byte to `file`.
    func drain(_ handle: FileHandle, copyingTo file: FileHandle?) {
        var pending = Data()
        while true {
            let data = handle.availableData
            if data.isEmpty { break }
            file?.write(data)
            pending.append(data)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                pending = Data(pending[(newline + 1)...])
            }
        }
        try? file?.close()
    }

    func first(where predicate: (String) -> Bool) -> String? { lock.withLock { lines.first(where: predicate) } }
}
