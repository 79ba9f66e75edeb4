import FlotillaCore
import Foundation
import Synchronization

/// A real language model served on loopback by llama.cpp's `llama-server`, for tests that need one.
///
/// `scripts/local-model` builds the server and assembles the model; tests find them through
/// `FLOTILLA_TEST_LLAMA_SERVER` and `FLOTILLA_TEST_MODEL` and are skipped without them. The server answers
/// OpenAI's API at ``baseURL`` under the model name ``alias``.
package final class LocalModelServer: Sendable {
    /// The name the model is served under (what agents are given, after `openai/` for litellm-based tools).
    package static let alias = "qwen2.5-coder-1.5b-instruct"

    /// The server and the model file, when the environment names both.
    package static var configured: (server: String, model: String)? {
        let environment = ProcessInfo.processInfo.environment
        guard let server = environment["FLOTILLA_TEST_LLAMA_SERVER"], let model = environment["FLOTILLA_TEST_MODEL"],
            FileManager.default.isExecutableFile(atPath: server), FileManager.default.fileExists(atPath: model)
        else { return nil }
        return (server, model)
    }

    package static var isAvailable: Bool { configured != nil }

    package let port: Int
    private let process: Process
    private let log: String

    /// `http://127.0.0.1:PORT/v1`.
    package var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Starts the server on a free loopback port and returns once it said it serves (the model loaded), or
    /// throws with the end of its log after `timeout`.
    package static func start(
        contextTokens: Int = 16384,
        // A backstop: loading the model took over 120 s once in CI, on two cores busy with other tests.
        timeout: Duration = .seconds(300)
    ) async throws -> LocalModelServer {
        guard let (server, model) = configured else {
            throw FixtureError("no local model: run `eval \"$(scripts/local-model)\"` first")
        }
        let port = try FreePort.pick()
        let log = NSTemporaryDirectory() + "/flotilla-llama-\(port).log"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: server)
        process.arguments = [
            "-m", model, "--alias", alias, "--host", "127.0.0.1", "--port", String(port), "-c", String(contextTokens),
            "--parallel", "1", "-t", String(max(1, ProcessInfo.processInfo.activeProcessorCount)), "--jinja",
        ]
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let keep = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let serving = CompletionSignal()
        process.terminationHandler = { _ in serving.signal() }
        try process.run()
        // Its output, read as it comes (a blocking read on a thread of its own), kept in `log` for failures.
        let reader = pipe.fileHandleForReading
        Thread {
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                keep.write(chunk)
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending = Data(pending[(newline + 1)...])
                    // Printed once the model is loaded and requests are answered.
                    if line.contains("listening on http") || line.contains("all slots are idle") {
                        serving.signal()
                    }
                }
            }
            try? keep.close()
        }.start()
        let started = LocalModelServer(port: port, process: process, log: log)
        let ready = await serving.wait(timeout: timeout)
        guard ready, process.isRunning else {
            started.stop()
            let tail = (try? String(contentsOfFile: log, encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
            throw FixtureError("llama-server did not start within \(timeout): \(tail)")
        }
        return started
    }

    private init(port: Int, process: Process, log: String) {
        self.port = port
        self.process = process
        self.log = log
    }

    /// Stops the server: SIGTERM, and SIGKILL if it has not ended 5 s later (llama-server can spin on SIGTERM).
    package func stop() {
        guard process.isRunning else { return }
        let ended = DispatchSemaphore(value: 0)
        let waiter = Thread {
            self.process.waitUntilExit()
            ended.signal()
        }
        waiter.start()
        process.terminate()
        if ended.wait(timeout: .now() + 5) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            ended.wait()
        }
        try? FileManager.default.removeItem(atPath: log)
    }

    deinit { stop() }
}

/// A loopback port no one listens on now.
package enum FreePort {
    package static func pick() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw FixtureError("socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw FixtureError("bind: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw FixtureError("getsockname: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
