import FlotillaCore
import Foundation

/// One structured question to a language model about an attempt (the critic's, the reviewer's, the architect's) or
/// about the whole mission (the objective check's): the answer, when one came in time, and the call as the ledger
/// records it either way.
enum ModelConsultation {
    static func ask(
        _ model: any LanguageModel,
        _ request: StructuredRequest,
        role: ModelCall.Role,
        attempt: AttemptKey?,
        timeout: Duration? = nil,
        clock: any Clock<Duration>
    ) async -> (answer: StructuredAnswer?, call: ModelCall) {
        let stopwatch = Stopwatch(clock: clock)
        do {
            let answer: StructuredAnswer
            if let timeout {
                answer = try await within(timeout, on: clock) { try await model.answer(request) }
            } else {
                answer = try await model.answer(request)
            }
            let call = ModelCall(
                role: role,
                attempt: attempt,
                model: answer.model,
                usage: answer.usage,
                duration: stopwatch.elapsed
            )
            return (answer, call)
        } catch {
            // An answer that failed the schema was still paid for.
            var spent = Usage.zero
            if case LanguageModelError.invalidAnswer(_, _, let usage) = error { spent = usage }
            let problem = error is Timeout ? "no answer within \(timeout?.shortDescription ?? "")" : "\(error)"
            let call = ModelCall(
                role: role,
                attempt: attempt,
                model: model.label,
                usage: spent,
                duration: stopwatch.elapsed,
                error: problem
            )
            return (nil, call)
        }
    }

    private struct Timeout: Error {}

    /// `work`, or ``Timeout`` once `limit` passed (the work is cancelled).
    private static func within<T: Sendable>(
        _ limit: Duration,
        on clock: any Clock<Duration>,
        _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try? await clock.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard case let answer?? = try await group.next() else { throw Timeout() }
            return answer
        }
    }
}
