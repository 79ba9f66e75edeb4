import FlotillaCore
import Foundation

/// Pushes the target branch to a remote (`--push REMOTE`).
///
/// It goes after each landing (one push at a time, beside the loop; landings meanwhile are pushed together when it
/// ends) and once more at the end, each with a lease on what Flotilla pushed last. With `--approve final` only the end
/// pushes, once a human approved.
struct Publisher: LoopCapability {
    let remote: String?
    let branch: String
    let approvalMode: ApprovalMode
    /// What went to the remote last: the lease of the next push.
    var lastPushed: String?
    var pushing = false
    /// The head moved while a push was under way: push again when it ends.
    var pushAgain = false
    /// Why the remote refused; no more pushes then.
    var refused: String?

    var inFlight: Int { pushing ? 1 : 0 }

    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] {
        switch event {
        case .landed(_, let head):
            return push(head)
        case .pushEnded(let attempt):
            pushing = false
            var actions = record(attempt)
            if pushAgain, view.stopping == nil {
                pushAgain = false
                if lastPushed != view.targetHead { actions += push(view.targetHead) }
            }
            return actions
        default:
            return []
        }
    }

    /// What goes at the end: whatever landed and was not pushed yet; nil when nothing does.
    func finalPush(_ reason: StopReason, head: String, base: String) -> Push? {
        guard let remote, refused == nil, lastPushed != head, head != base,
            reason == .completed || approvalMode != .final
        else { return nil }
        return Push(attempt: PushAttempt(remote: remote, branch: branch, commit: head, expected: lastPushed))
    }

    private mutating func push(_ head: String) -> [LoopAction] {
        guard let remote, approvalMode != .final, refused == nil else { return [] }
        guard !pushing else {
            pushAgain = true
            return []
        }
        pushing = true
        return [.spawn(Push(attempt: PushAttempt(remote: remote, branch: branch, commit: head, expected: lastPushed)))]
    }

    private mutating func record(_ attempt: PushAttempt) -> [LoopAction] {
        if let refusal = attempt.refusal {
            refused = refusal
        } else {
            lastPushed = attempt.commit
        }
        return [.record(.pushed(attempt))]
    }
}

/// One push of the target branch, with its lease; it finishes even when the mission stops.
struct Push: ChildWork {
    let attempt: PushAttempt

    var finishesOnStop: Bool { true }

    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        var attempt = self.attempt
        do {
            if case .refused(let said) = try await environment.context.git.push(
                attempt.commit,
                to: attempt.remote,
                branch: attempt.branch,
                expecting: attempt.expected
            ) {
                attempt.refusal = said.isEmpty ? "the remote refused" : said
            }
        } catch {
            attempt.refusal = "\(error)"
        }
        return .pushEnded(attempt)
    }
}

extension Publisher {
    init(_ snapshot: MissionSnapshot) {
        self.init(
            remote: snapshot.spec.options.push,
            branch: snapshot.spec.targetBranch,
            approvalMode: snapshot.spec.options.approvalMode,
            lastPushed: snapshot.lastPushed
        )
    }
}
