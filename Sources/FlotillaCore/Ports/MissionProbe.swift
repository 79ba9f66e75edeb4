/// Moments in an attempt's life, for measuring the orchestrator itself (benchmarks, metrics).
package enum ProbeMark: Sendable, Equatable {
    /// Groups entered the frontier (at the start, when a dependency landed, or when an attempt failed).
    case ready([String])
    /// An agent slot has nothing to do.
    case slotFree(Int)
    case dispatched(AttemptKey, slot: Int)
    /// Just before the agent session starts, its worktree and prompt ready.
    case agentStarting(AttemptKey)
    /// The gate passed; the attempt waits for the merge queue.
    case queued(AttemptKey)
    /// A landing (of one or several candidates) starts.
    case mergeStarting([AttemptKey])
    /// The attempt ended: landed, failed or interrupted.
    case concluded(AttemptKey)
    /// A named step of the loop was just recorded (`merge.verified`, `final.verified`…): where fault-injection tests
    /// stop the process to check that a resume recovers from there.
    case checkpoint(String)
}

/// Receives ``ProbeMark``s as they happen, taking the time itself.
///
/// Must be cheap and never block.
package protocol MissionProbe: Sendable {
    func mark(_ mark: ProbeMark)
}

/// Which attempts the current task works for, so that process runners can attribute time to them.
package enum AttemptContext {
    @TaskLocal package static var current: [AttemptKey] = []
}
