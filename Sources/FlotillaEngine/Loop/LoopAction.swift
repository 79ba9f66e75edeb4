import FlotillaCore

/// What a capability asks the loop to do: the loop alone performs I/O, records state changes and starts children.
enum LoopAction: Sendable {
    /// Store a state change with its event; then mark the probe's checkpoint, if one is named (fault-injection tests
    /// stop Flotilla there).
    case record(LedgerChange, checkpoint: String? = nil)
    /// Store a state change the ledger may refuse (a decision someone else made first); only once it is stored, tell
    /// every capability `then`.
    case recordUnlessRefused(LedgerChange, then: LoopEvent)
    /// Tell the probe (benchmarks, metrics, fault injection).
    case mark(ProbeMark)
    /// Tell every capability: how capabilities speak to each other.
    case notify(LoopEvent)
    /// Start a child task; what it says comes back as events, its answer last.
    case spawn(any ChildWork)
    /// Tell every capability `event` after `delay`.
    case after(Duration, LoopEvent)
    /// The running mission's checklist grew (groups were added).
    case replaceChecklist(Checklist)
    /// End the mission for this reason.
    case finish(StopReason)
    /// Flotilla itself cannot go on: end the mission as failed.
    case fail(String)

    /// An attempt ends without landing.
    static func conclude(_ key: AttemptKey, _ ending: AttemptEnding) -> LoopAction { .notify(.conclude(key, ending)) }
}
