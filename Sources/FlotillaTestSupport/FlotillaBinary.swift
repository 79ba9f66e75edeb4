import FlotillaCore
import FlotillaSystem
import Foundation

/// Runs the built `flotilla` executable, as a user would.
package enum FlotillaBinary {
    package struct Outcome: Sendable {
        package var exitCode: Int?
        /// The signal that ended the process, if one did.
        package var signal: Int32? = nil
        package var standardOutput: String
        package var standardError: String
        package var timedOut: Bool
    }

    /// The executable next to the test bundle (SwiftPM builds it because the end-to-end tests depend on it),
    /// or `FLOTILLA_BINARY`.
    package static func path() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["FLOTILLA_BINARY"] { return explicit }
        var candidates: [URL] = []
        if let first = ProcessInfo.processInfo.arguments.first {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent())
        }
        candidates.append(Bundle.main.bundleURL)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for directory in candidates {
            let candidate = directory.appendingPathComponent("flotilla").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw FixtureError(
            "cannot find the built flotilla executable near \(candidates.map(\.path)); set FLOTILLA_BINARY"
        )
    }

    /// Runs `flotilla ARGUMENTS` in `directory`; the timeout is only a backstop against a hang.
    package static func run(
        _ arguments: [String],
        in directory: String,
        environment extra: [String: String] = [:],
        standardInput: String? = nil,
        timeout: Duration = .seconds(300)
    ) async throws -> Outcome {
        var environment = FixtureRepository.environment
        environment["CI"] = "true"
        environment.merge(extra) { $1 }
        var request = ProcessRequest(
            executable: try path(),
            arguments: arguments,
            workingDirectory: directory,
            environment: environment,
            tailLimit: 1 << 20,
            timeout: timeout
        )
        request.terminationGrace = .seconds(2)
        if let standardInput { request.standardInput = .text(standardInput) }
        let result = try await SubprocessRunner().run(request)
        var signal: Int32?
        if case .signaled(let number) = result.termination { signal = number }
        return Outcome(
            exitCode: result.termination.exitCode,
            signal: signal,
            standardOutput: result.standardOutput,
            standardError: result.standardError,
            timedOut: result.timedOut
        )
    }
}

/// A `flotilla` process started in the background, so a test can signal it while it runs.
package final class RunningFlotilla: @unchecked Sendable {
    // SAFETY: `process` is configured before launch and only read (its pid, its status) after; the termination
    // handler only signals `exited`.
    private let process = Process()
    private let exited = CompletionSignal()
    private let output: TemporaryDirectory

    package init(_ arguments: [String], in directory: String) throws {
        output = try TemporaryDirectory(prefix: "flotilla-output")
        process.executableURL = URL(fileURLWithPath: try FlotillaBinary.path())
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = FixtureRepository.environment
        environment["CI"] = "true"
        process.environment = environment
        _ = FileManager.default.createFile(atPath: output.file("stdout"), contents: nil)
        _ = FileManager.default.createFile(atPath: output.file("stderr"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: output.file("stdout"))
        process.standardError = FileHandle(forWritingAtPath: output.file("stderr"))
        process.standardInput = FileHandle.nullDevice
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
    }

    package var processIdentifier: Int32 { process.processIdentifier }

    package func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to end; after `timeout` it is killed and the outcome says it timed out.
    package func wait(timeout: Duration) async -> FlotillaBinary.Outcome {
        let ended = await exited.wait(timeout: timeout)
        if !ended {
            kill(process.processIdentifier, SIGKILL)
            _ = await exited.wait(timeout: .seconds(10))
        }
        defer { output.remove() }
        return FlotillaBinary.Outcome(
            exitCode: ended ? Int(process.terminationStatus) : nil,
            standardOutput: (try? output.read("stdout")) ?? "",
            standardError: (try? output.read("stderr")) ?? "",
            timedOut: !ended
        )
    }
}
