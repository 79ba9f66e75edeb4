/// Where a mission is in its life.
package enum MissionState: String, Sendable, Codable, CaseIterable {
    case created
    case running
    case completed
    case blocked
    case failed
    case stopped

    package var isTerminal: Bool {
        switch self {
        case .completed, .blocked, .failed, .stopped: true
        case .created, .running: false
        }
    }
}

/// Why a mission ended.
///
/// Raw values are the names used in the ledger, events and JSON output.
package enum StopReason: String, Sendable, Codable, CaseIterable {
    /// Every group landed and the final full verify passed.
    case completed
    /// Nothing runnable is left: some group is blocked and needs a human.
    case blocked
    case maxCost = "max_cost"
    case maxWallClock = "max_wall_clock"
    case maxAttempts = "max_attempts"
    /// The user stopped the mission.
    case stopped
    /// The final verify failed on the target head, or the mission could not continue.
    case failed
    /// A person ended the mission for good (`stop --terminate`): it is never resumed.
    case terminated
    /// A person declared the mission done (`stop --complete --reason`): groups not landed are waived.
    case forcedComplete = "forced_complete"
    /// The attempts `flotilla step` allowed have run: the mission waits, resumable.
    case stepLimit = "step_limit"

    package var missionState: MissionState {
        switch self {
        case .completed, .forcedComplete: .completed
        case .blocked: .blocked
        case .maxCost, .maxWallClock, .maxAttempts, .stopped, .terminated, .stepLimit: .stopped
        case .failed: .failed
        }
    }

    /// The process exit status for this reason: 0 completed, 1 failed, 3 blocked, 4 stopped by the user (a pause,
    /// a termination or the end of a `step`), 5 a breaker tripped (2, bad input, never comes from a mission).
    package var exitCode: Int32 {
        switch self {
        case .completed, .forcedComplete: 0
        case .failed: 1
        case .blocked: 3
        case .stopped, .terminated, .stepLimit: 4
        case .maxCost, .maxWallClock, .maxAttempts: 5
        }
    }

    /// "completed", or "stopped (max_cost)" when the state alone does not say why.
    package var outcomeDescription: String {
        missionState.rawValue == rawValue ? rawValue : "\(missionState.rawValue) (\(rawValue))"
    }

    /// Whether `resume` may continue a mission that ended so: not one completed or terminated.
    package var isResumable: Bool {
        switch self {
        case .completed, .forcedComplete, .terminated: false
        default: true
        }
    }

    package var isBreaker: Bool {
        switch self {
        case .maxCost, .maxWallClock, .maxAttempts: true
        default: false
        }
    }
}

/// The state of one checklist group.
package enum GroupStatus: String, Sendable, Codable, CaseIterable {
    /// Not done; ready when its dependencies are done and nobody holds it.
    case pending
    /// An attempt holds a claim on it (agent, gate or merge queue).
    case active
    /// Landed on the target branch.
    case done
    /// Gave up: stalled, or a dependency is blocked. Needs a human.
    case blocked
}

/// The phase an attempt is in while it runs.
package enum AttemptPhase: String, Sendable, Codable, CaseIterable {
    case agent
    case gate
    case queued
    case merging
    case finished
}

/// How an attempt ended.
package enum AttemptOutcome: String, Sendable, Codable, CaseIterable {
    /// Verified and landed on the target branch.
    case landed
    /// The gate (verify command or group check) failed.
    case gateFailed = "gate_failed"
    /// The diff touched a protected path.
    case rejected
    /// The merge onto the current target head conflicted.
    case conflict
    /// The merged commit broke an already-landed group.
    case regression
    /// The agent did not finish within the attempt timeout.
    case timedOut = "timed_out"
    /// The agent failed before the gate could judge anything (crash, auth, quota…).
    case agentFailed = "agent_failed"
    /// The mission stopped while the attempt ran.
    case interrupted
    /// The agent said a criterion cannot be met as written (impossible, or contradicting the tests): never a pass; its
    /// group waits for a person, who reads the reason.
    case disputed

    /// Whether the outcome is a lack of progress that counts towards the stall rule.
    ///
    /// Conflicts are races between agents, and interruptions are the user's doing.
    package var countsTowardsStall: Bool {
        switch self {
        case .landed, .conflict, .interrupted, .disputed: false
        case .gateFailed, .rejected, .regression, .timedOut, .agentFailed: true
        }
    }
}

/// What a verification was run for.
package enum VerificationKind: String, Sendable, Codable, CaseIterable {
    /// An attempt's own gate, in its worktree.
    case gate
    /// The merge queue's check of the exact merged commit: every landed group plus the candidate.
    case regression
    /// The full verify of the target head before a mission completes.
    case final
}

/// The stage of the stall ladder a group has reached.
package enum Escalation: String, Sendable, Codable, CaseIterable, Comparable {
    case none
    /// The next prompt asks the agent to change its approach.
    case strategyChange = "strategy_change"

    private var rank: Int {
        switch self {
        case .none: 0
        case .strategyChange: 1
        }
    }

    package static func < (lhs: Escalation, rhs: Escalation) -> Bool { lhs.rank < rhs.rank }
}
