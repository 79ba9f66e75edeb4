/// The stall rule: a group whose attempts keep failing without progress escalates, then blocks.
///
/// Each rung of the ladder gets `threshold` consecutive failures without progress. After the first rung the
/// next prompt asks for a change of strategy; after the second the group is blocked and needs a human.
/// Progress is a verify report showing more criteria passing than ever before on this group, or a metric beating its
/// best towards its target (``MetricBests``).
package struct StallRule: Sendable, Equatable {
    package var threshold: Int

    package init(threshold: Int) {
        self.threshold = max(1, threshold)
    }

    package func assess(
        _ group: GroupProgress,
        outcome: AttemptOutcome,
        criteria: CriteriaScore?,
        metricImproved: Bool = false
    ) -> StallAssessment {
        var assessment = StallAssessment(
            stalledAttempts: group.stalledAttempts,
            escalation: group.escalation,
            bestCriteriaPassed: group.bestCriteriaPassed,
            block: false,
            madeProgress: false
        )
        if let passed = criteria?.passed, passed > (group.bestCriteriaPassed ?? 0) {
            assessment.bestCriteriaPassed = passed
            assessment.madeProgress = true
        }
        if metricImproved { assessment.madeProgress = true }
        guard outcome.countsTowardsStall else { return assessment }
        if assessment.madeProgress {
            assessment.stalledAttempts = 0
            return assessment
        }
        assessment.stalledAttempts += 1
        guard assessment.stalledAttempts >= threshold else { return assessment }
        switch group.escalation {
        case .none:
            assessment.escalation = .strategyChange
            assessment.stalledAttempts = 0
        case .strategyChange:
            assessment.block = true
        }
        return assessment
    }
}

/// The stall rule's verdict on a failed attempt.
package struct StallAssessment: Sendable, Equatable {
    package var stalledAttempts: Int
    package var escalation: Escalation
    package var bestCriteriaPassed: Int?
    /// The group is out of rungs: block it (and its dependents).
    package var block: Bool
    package var madeProgress: Bool

    package init(
        stalledAttempts: Int,
        escalation: Escalation,
        bestCriteriaPassed: Int?,
        block: Bool,
        madeProgress: Bool
    ) {
        self.stalledAttempts = stalledAttempts
        self.escalation = escalation
        self.bestCriteriaPassed = bestCriteriaPassed
        self.block = block
        self.madeProgress = madeProgress
    }
}
