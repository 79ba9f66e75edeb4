import FlotillaCore
import Foundation

/// Ends an attempt whose agent said a criterion cannot be met as written: `disputed`, never a pass.
///
/// The group waits for a person, who reads the reason (``Dispute``). The dispute file is taken out of the checkout
/// first, so it never reaches a commit.
struct DisputeStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        let file = (state.worktree as NSString).appendingPathComponent(Dispute.fileName)
        var reason: String?
        if let data = FileManager.default.regularFileContents(atPath: file, limit: 64 << 10) {
            reason = Dispute.reason(String(decoding: data, as: UTF8.self))
        }
        // Whatever stands there (a directory, a link) goes: it is Flotilla's name, not the project's.
        try? FileManager.default.removeItem(atPath: file)
        guard let reason = reason ?? Dispute.reason(inAnswer: state.session?.finalMessage) else { return .next }
        return .end(
            .failed(
                outcome: .disputed,
                reason: reason,
                feedback: Feedback.disputed(reason)
            )
        )
    }
}
