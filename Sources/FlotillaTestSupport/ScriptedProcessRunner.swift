import FlotillaCore
import Foundation
import Synchronization

/// A ``ProcessRunner`` that starts nothing: a closure answers each request.
///
/// The closure may read the files of the request's working directory (a gate's checkout). It stands beside the real
/// runner in tests of decisions, not of processes.
package final class ScriptedProcessRunner: ProcessRunner {
    private let answer: @Sendable (ProcessRequest) async throws -> ProcessResult
    private let log = Mutex<[ProcessRequest]>([])

    package init(_ answer: @escaping @Sendable (ProcessRequest) async throws -> ProcessResult) {
        self.answer = answer
    }

    package func run(_ request: ProcessRequest) async throws -> ProcessResult {
        log.withLock { $0.append(request) }
        return try await answer(request)
    }

    /// Every request so far, in the order they came.
    package var requests: [ProcessRequest] { log.withLock { $0 } }

    /// A verify command: `failing` gives the groups of `FLOTILLA_GROUPS` (every one of `all` when it is empty, as in
    /// the final verify) that fail in a checkout; it exits 1, naming them, when there are any, else 0.
    package static func verify(
        all: [String],
        failing: @escaping @Sendable (_ checkout: String, _ groups: [String]) -> [String]
    ) -> ScriptedProcessRunner {
        ScriptedProcessRunner { request in
            let listed = (request.environment["FLOTILLA_GROUPS"] ?? "").split(separator: ",").map(String.init)
            let failed = failing(request.workingDirectory, listed.isEmpty ? all : listed)
            let said = failed.isEmpty ? "ok" : "FAIL: " + failed.joined(separator: ", ")
            return ProcessResult(
                termination: .exited(failed.isEmpty ? 0 : 1),
                standardOutput: said,
                outputTail: said,
                duration: .milliseconds(1)
            )
        }
    }
}
