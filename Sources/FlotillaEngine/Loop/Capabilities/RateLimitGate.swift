import FlotillaCore
import Foundation

/// After a rate limit or quota, no agent starts until the wait the tool stated (or a backoff that doubles while limits
/// repeat) is over — unless a fallback backend took over, which the attempt's verdict says.
struct RateLimitGate: LoopCapability {
    let backoff: RateLimitBackoff
    var backingOff = false
    var consecutive = 0

    var holdsDispatch: Bool { backingOff }

    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] {
        switch event {
        case .attemptResult(_, let result):
            guard case .rateLimited(_, _, let message, let holdDispatch) = result.verdict else {
                if case .passed = result.verdict { consecutive = 0 }
                if case .failed = result.verdict { consecutive = 0 }
                return []
            }
            consecutive += 1
            guard holdDispatch, !backingOff else { return [] }
            backingOff = true
            return [.after(backoff.delay(after: message, consecutive: consecutive, now: view.now), .backoffEnded)]
        case .backoffEnded:
            backingOff = false
            return []
        default:
            return []
        }
    }
}
