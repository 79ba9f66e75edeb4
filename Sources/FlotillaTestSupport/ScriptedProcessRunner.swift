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

    /// A verify command's answer: it checks the groups of `FLOTILLA_GROUPS` (every one of `all` when it is empty,
    /// as in the final verify) with `passes`, and exits 1 naming those that fail, else 0.
    package static func verdict(
        _ request: ProcessRequest,
        all: [String],
        passes: (_ checkout: String, _ group: String) -> Bool
    ) -> ProcessResult {
        let listed = (request.environment["FLOTILLA_GROUPS"] ?? "").split(separator: ",").map(String.init)
        let failed = (listed.isEmpty ? all : listed).filter { !passes(request.workingDirectory, $0) }
        let said = failed.isEmpty ? "ok" : "FAIL: " + failed.joined(separator: ", ")
        return ProcessResult(
            termination: .exited(failed.isEmpty ? 0 : 1),
            standardOutput: said,
            outputTail: said,
            duration: .milliseconds(1)
        )
    }
}
