import FlotillaCore
import FlotillaSystem
import Foundation

/// Runs the built `flotilla` executable, as a user would.
package enum FlotillaBinary {
    package struct Outcome: Sendable {
        package var exitCode: Int?
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
        timeout: Duration = .seconds(120)
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
        let result = try await SubprocessRunner().run(request)
        return Outcome(
            exitCode: result.termination.exitCode,
            standardOutput: result.standardOutput,
            standardError: result.standardError,
            timedOut: result.timedOut
        )
    }
}
