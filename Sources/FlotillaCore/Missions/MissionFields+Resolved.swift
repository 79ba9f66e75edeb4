extension MissionFields {
    /// A defaulted field's value: its own, else its rule's default (every field read here has one; a test holds
    /// them together).
    private func value(_ given: Double?, _ key: CodingKeys) -> Double {
        given ?? key.rule.defaultValue?.numberValue ?? 0
    }

    private func value(_ given: Int?, _ key: CodingKeys) -> Int {
        given ?? Int(key.rule.defaultValue?.numberValue ?? 0)
    }

    package var agentCount: Int { value(agents, .agents) }

    /// The breakers and per-attempt limits; -1 is uncapped.
    package var limits: MissionLimits {
        let cost = value(maxCostUSD, .maxCostUSD)
        let time = value(timeoutSeconds, .timeoutSeconds)
        let attempts = value(maxAttempts, .maxAttempts)
        return MissionLimits(
            maxCostUSD: cost < 0 ? nil : cost,
            maxWallClock: time < 0 ? nil : .seconds(bounded: time),
            maxAttempts: attempts < 0 ? nil : attempts,
            attemptTimeout: .seconds(bounded: value(attemptTimeoutSeconds, .attemptTimeoutSeconds)),
            stallThreshold: value(stallThreshold, .stallThreshold)
        )
    }

    /// The fields that give `limits` (nil caps are -1).
    package mutating func setLimits(_ limits: MissionLimits) {
        maxCostUSD = limits.maxCostUSD ?? -1
        timeoutSeconds = limits.maxWallClock?.seconds ?? -1
        maxAttempts = limits.maxAttempts ?? -1
        attemptTimeoutSeconds = limits.attemptTimeout.seconds
        stallThreshold = limits.stallThreshold
    }

    package var verifyTimeout: Duration { .seconds(bounded: value(verifyTimeoutSeconds, .verifyTimeoutSeconds)) }

    package var mergeBatchSize: Int { value(mergeBatch, .mergeBatch) }

    /// What one attempt may add: bytes (its files' growth) and new files; nil is uncapped.
    package var additionCaps: (bytes: Int?, files: Int?) {
        let bytes = value(maxAddedBytes, .maxAddedBytes)
        let files = value(maxAddedFiles, .maxAddedFiles)
        return (bytes < 0 ? nil : bytes, files < 0 ? nil : files)
    }

    /// How verified attempts are reviewed before they land.
    package var reviewMode: ReviewMode { review ?? .none }
    package var reviewGate: (threshold: Int, timeout: Duration) {
        (
            value(reviewThreshold, .reviewThreshold),
            .seconds(bounded: value(reviewTimeoutSeconds, .reviewTimeoutSeconds))
        )
    }

    /// With `--objective-check`: how many groups the check may add over the mission (nil without the check).
    package var objectiveGroupLimit: Int? {
        objectiveCheck == true ? value(objectiveMaxGroups, .objectiveMaxGroups) : nil
    }

    /// What waits for a human, and for how long.
    package var approvalMode: ApprovalMode { approve ?? .none }
    package var approvalTimeout: Duration? { approvalTimeoutSeconds.map { .seconds(bounded: $0) } }

    /// The first wait after a rate limit (when the agent does not say how long) and the longest.
    package var rateLimitBackoff: RateLimitBackoff {
        RateLimitBackoff(
            base: .seconds(bounded: value(rateLimitBackoffSeconds, .rateLimitBackoffSeconds)),
            cap: .seconds(bounded: value(rateLimitMaxWaitSeconds, .rateLimitMaxWaitSeconds))
        )
    }

    /// The backend asked for, else the one `agent_command` or `scenario` implies.
    package var impliedBackend: BackendName? {
        backend ?? (agentCommand != nil ? .command : scenario != nil ? .simulate : nil)
    }
}
