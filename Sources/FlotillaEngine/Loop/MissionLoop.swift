import FlotillaCore
import Foundation

/// Running time over all runs of a mission: the earlier runs' total plus this run's so far.
struct RunningTime {
    let prior: Duration
    let stopwatch: Stopwatch

    var elapsed: Duration { prior + stopwatch.elapsed }
}

/// Signals the loop's child tasks send back.
enum LoopSignal: Sendable {
    case attemptEnded(AttemptKey, slot: Int, AttemptResult, costUSD: Double)
    case mergeEnded(MergeRound)
    case stopRequested
    case wallClockExpired
    /// The wait after a rate limit is over.
    case backoffEnded
    /// Time to read the ledger for decisions about candidates that wait for a human.
    case approvalsDue
    /// A push of the target branch (`--push`) ended.
    case pushEnded(PushAttempt)
}

/// The state of one run of the loop; only the loop's own task touches it.
struct MissionLoop {
    static let recentLandingsInPrompt = 20

    /// The mission; its checklist grows when the objective check adds groups.
    var spec: MissionSpec
    let context: EngineContext
    let ports: MissionRunner.Ports
    let options: MissionRunner.Options
    let stallRule: StallRule

    var progress: MissionProgress
    var estimator = CostEstimator()
    var spentUSD: Double
    var attemptsStarted: Int
    var freeSlots: [Int]
    var running: [AttemptKey: Int] = [:]
    var queue: MergeQueue<MergeCandidate>
    var feedback: [String: [AttemptFeedback]] = [:]
    var targetHead: String
    var targetTree: String
    var tripped: BreakerTrip?
    var stopRequested = false
    var fatal: String?
    /// Without a sandbox: the user's branches and tags as last seen, and the attempts that ran since.
    var userRefs: [String: String]?
    var ranSinceRefCheck: [AttemptKey] = []
    /// No agent starts while a rate-limit wait runs; consecutive limits lengthen it.
    var backingOff = false
    var consecutiveRateLimits = 0
    /// Verified candidates waiting for a human (`--approve landings`), and whether a look at the ledger is due.
    var awaitingApproval: [AttemptKey: AwaitingApproval] = [:]
    var approvalCheckScheduled = false
    /// The run's stop signal, for the wait of `--approve final`; and why a human rejected the finished mission.
    var stopSignal: CompletionSignal?
    var finalRejection: String?
    /// `--push`: what went to the remote last (the lease of the next push), a push under way and one due after it, and
    /// why the remote refused (no more pushes then).
    var lastPushed: String?
    var pushing = false
    var pushAgain = false
    var pushRefused: String?
    /// Files groups are expected to touch (`--avoid-overlap`, on by default): `Files:` lines, then conflicts seen.
    var footprints: Footprints?
    /// The objective check said the goal is met, or a human declined its proposal: it is not asked again this run.
    var objectiveSettled = false
    /// Best-of-N rounds under way, by group: their candidates' results wait until all are in.
    var rounds: [String: SpeculativeRound] = [:]
    /// Rounds a crash cut short with several passing candidates queued, ranked when the mission was read back: the
    /// best goes on, the others are ended with why they lost when the run starts.
    var cutShortRounds: [[SpeculationCandidate]] = []
    /// Where a group's next attempt starts when it is a fixup: the merged commit that failed its regression verify.
    var fixupBases: [String: String] = [:]
    /// The attempts that started from such a merge: when one fails the same way, the next starts from the head.
    var fixupAttempts: Set<AttemptKey> = []

    init(
        spec: MissionSpec,
        context: EngineContext,
        ports: MissionRunner.Ports,
        options: MissionRunner.Options
    ) async throws {
        self.spec = spec
        self.context = context
        self.ports = ports
        self.options = options
        self.stallRule = StallRule(threshold: spec.limits.stallThreshold)
        let groups = try await context.ledger.groups(of: spec.id)
        progress = MissionProgress(groups.map(\.progress))
        let attempts = try await context.ledger.attempts(of: spec.id)
        // Planning and objective checks belong to no attempt; a critic's calls are already in their attempt's cost.
        let planning = try await context.ledger.modelCalls(of: spec.id).filter {
            $0.call.role == .planner || $0.call.role == .objective
        }
        spentUSD = attempts.reduce(0) { $0 + $1.usage.costUSD } + planning.reduce(0) { $0 + $1.call.usage.costUSD }
        attemptsStarted = attempts.count
        for attempt in attempts where attempt.usage.costUSD > 0 { estimator.record(costUSD: attempt.usage.costUSD) }
        for attempt in attempts {
            guard let outcome = attempt.outcome, outcome != .landed, let text = attempt.feedback else { continue }
            feedback[attempt.key.group, default: []].append(
                AttemptFeedback(attempt: attempt.key.number, outcome: outcome, text: text)
            )
        }
        freeSlots = Array(1...max(1, spec.agents))
        queue = MergeQueue(batchSize: spec.options.mergeBatchSize)
        // Attempts whose gate passed before the last run stopped wait to land again (recovery kept them queued), or
        // for the human they were waiting for.
        let approvals = try await context.ledger.approvals(of: spec.id)
        let queued = attempts.filter { $0.outcome == nil && $0.phase == .queued }
        // A best-of-N round cut short by a crash may have left several passing candidates of one group: they are ranked
        // as the round would have ranked them, and only the best goes on.
        cutShortRounds = try await Self.rankQueued(queued, mission: spec.id, ledger: context.ledger)
        let outranked = Set(cutShortRounds.flatMap { $0.dropFirst().map(\.key) })
        for attempt in queued where !outranked.contains(attempt.key) {
            let candidate = MergeCandidate(
                key: attempt.key,
                commit: attempt.commit ?? attempt.startCommit,
                criteriaPassed: attempt.criteriaPassed
            )
            if let asked = approvals.first(where: { $0.attempt == attempt.key }) {
                awaitingApproval[attempt.key] = AwaitingApproval(candidate: candidate, since: asked.requestedAt)
            } else {
                queue.enqueue(candidate)
            }
        }
        // The head is what Flotilla's own landings made it, never what the branch says: anyone may write a ref.
        let landed = attempts.filter { $0.outcome == .landed }
        targetHead =
            landed.max { ($0.finishedAt ?? .distantPast) < ($1.finishedAt ?? .distantPast) }?.landedCommit
            ?? spec.baseCommit
        targetTree = try await context.git.tree(of: targetHead)
        if spec.options.push != nil { lastPushed = try await Self.lastPush(of: spec.id, ledger: context.ledger) }
        if spec.options.avoidOverlap != false { footprints = Footprints(spec.checklist) }
    }

    /// Reports any move of the user's branches since the last look, with the attempts that ran meanwhile.
    ///
    /// Without a sandbox an agent can move them. Not undone: Flotilla cannot tell the user's own commits from an agent's
    /// there.
    mutating func watchUserRefs() async throws {
        guard let known = userRefs else { return }
        let current = try await context.git.userRefs()
        let moves = Set(known.keys).union(current.keys).sorted().compactMap { ref -> RefMove? in
            known[ref] == current[ref] ? nil : RefMove(ref: ref, from: known[ref], to: current[ref])
        }
        if !moves.isEmpty {
            try await context.record(.refsMoved(moves, during: ranSinceRefCheck), mission: spec.id)
        }
        userRefs = current
        ranSinceRefCheck = running.keys.sorted { $0.description < $1.description }
    }

    /// Puts the target branch back at ``targetHead`` if anything else moved it.
    func guardTarget(_ reason: String) async throws {
        try await TargetGuard(spec: spec, context: context.control).ensure(at: targetHead, reason: reason)
    }

    mutating func run(stop: CompletionSignal, priorRunning: Duration) async throws -> MissionResult {
        // Running time counts every run so far; time spent stopped or crashed does not.
        let started = RunningTime(prior: priorRunning, stopwatch: Stopwatch(clock: ports.clock))
        stopSignal = stop
        try await guardTarget("when the run started")
        if context.sandbox.mode == .none { userRefs = try await context.git.userRefs() }
        try await prepareStaging()
        try await endOutrankedCandidates()
        for slot in freeSlots { context.probe?.mark(.slotFree(slot)) }
        context.probe?.mark(.ready(progress.frontier))

        let reason = try await withThrowingTaskGroup(of: LoopSignal.self) { group in
            group.addTask {
                await stop.wait()
                return .stopRequested
            }
            if let wallClock = spec.limits.maxWallClock {
                let clock = ports.clock
                let left = wallClock - priorRunning
                group.addTask {
                    // Cancelled when the mission ends first; the loop ignores the signal then.
                    if left > .zero { try? await clock.sleep(for: left) }
                    return .wallClockExpired
                }
            }
            let reason: StopReason
            do {
                reason = try await loop(group: &group, started: started)
            } catch {
                // Flotilla itself cannot go on (git, disk, ledger): end the mission as failed, never leave it running.
                fatal = fatal ?? "\(error)"
                reason = .failed
            }
            group.cancelAll()
            // Whatever is still running was interrupted: record it, so the ledger says what happened to every attempt.
            while let signal = try await group.next() {
                try await finishInterrupted(signal, reason: reason)
            }
            for candidate in queue.drain() {
                try await interrupt(candidate.key, because: "the mission stopped (\(reason.rawValue))")
            }
            for key in awaitingApproval.keys.sorted(by: { $0.description < $1.description }) {
                try await interrupt(
                    key,
                    because: "the mission stopped (\(reason.rawValue)) while it waited for approval"
                )
            }
            awaitingApproval = [:]
            try await interruptHeldCandidates(reason)
            return reason
        }
        // What is reported, and left behind, is Flotilla's last landing, whatever moved the branch meanwhile.
        try await guardTarget("when the mission ended")
        try await finalPush(reason)
        let summary = try await summarize(reason, elapsed: started.elapsed)
        try await context.record(.missionFinished(reason, summary: summary), mission: spec.id)
        context.probe?.mark(.checkpoint("mission.finished"))
        await cleanUp()
        return MissionResult(reason: reason, summary: summary, targetHead: targetHead)
    }

    mutating func loop(
        group: inout ThrowingTaskGroup<LoopSignal, any Error>,
        started: RunningTime
    ) async throws -> StopReason {
        while true {
            if fatal != nil { return .failed }
            // While a rate-limit wait runs no slot is free, and the wait is work in flight, unless nothing is left
            // to dispatch anyway.
            let holding = backingOff && tripped == nil && !progress.allDone
            var context = DispatchContext(
                idleSlots: holding ? 0 : freeSlots.count,
                inFlight: running.count + queue.count + awaitingApproval.count + (holding ? 1 : 0) + (pushing ? 1 : 0),
                runningAttempts: running.count,
                spentUSD: spentUSD,
                estimatedAttemptUSD: estimator.estimateUSD,
                attemptsStarted: attemptsStarted,
                elapsed: started.elapsed,
                limits: spec.limits,
                stopRequested: stopRequested,
                tripped: tripped
            )
            context.footprints = footprints
            // Verified work not landed yet counts too: a group started now begins from before it lands.
            context.runningGroups =
                running.keys.map(\.group) + (queue.pending + (queue.landing ?? [])).map(\.key.group)
                + awaitingApproval.keys.map(\.group)
            let (step, trip) = Dispatcher.next(progress, context)
            if let trip, tripped == nil {
                tripped = trip
                try await self.context.record(.breakerTripped(trip), mission: spec.id)
            }
            switch step {
            case .finish(let reason):
                return reason
            case .finalVerify:
                switch try await checkObjective() {
                case .added: continue
                case .stopped: return .stopped
                case .goOn: return try await finalVerify()
                }
            case .dispatch(let groups):
                for id in groups { try await dispatch(id, into: &group) }
            case .wait:
                break
            }
            // Candidates may be waiting with nothing running (restored after a crash): start a landing first.
            try await startNextMerge(&group)
            scheduleApprovalCheck(&group)
            guard let signal = try await group.next() else { return .failed }
            try await handle(signal, group: &group)
        }
    }

    // MARK: - Attempts

    mutating func handle(
        _ signal: LoopSignal,
        group: inout ThrowingTaskGroup<LoopSignal, any Error>
    ) async throws {
        switch signal {
        case .stopRequested:
            stopRequested = true
        case .wallClockExpired:
            break
        case .backoffEnded:
            backingOff = false
        case .approvalsDue:
            try await checkApprovals(&group)
        case .pushEnded(let attempt):
            try await pushEnded(attempt, &group)
        case .attemptEnded(let key, let slot, let result, let cost):
            running[key] = nil
            try await watchUserRefs()
            freeSlots.append(slot)
            freeSlots.sort()
            context.probe?.mark(.slotFree(slot))
            spentUSD += cost
            if cost > 0 { estimator.record(costUSD: cost) }
            if try await holdForRound(key, result, group: &group) { break }
            switch result {
            case .passed(let commit, let criteria, _):
                consecutiveRateLimits = 0
                try await verified(MergeCandidate(key: key, commit: commit, criteriaPassed: criteria), group: &group)
            case .failed(let outcome, let reason, let text, let criteria):
                consecutiveRateLimits = 0
                try await conclude(key, outcome, reason: reason, feedback: text, criteriaPassed: criteria)
            case .rateLimited(let reason, let text, let message, let holdDispatch):
                consecutiveRateLimits += 1
                try await conclude(
                    key,
                    .agentFailed,
                    reason: reason,
                    feedback: text,
                    criteriaPassed: nil,
                    countsTowardsStall: false
                )
                if holdDispatch && !backingOff {
                    backingOff = true
                    let wait = spec.options.rateLimitBackoff.delay(
                        after: message,
                        consecutive: consecutiveRateLimits,
                        now: ports.now()
                    )
                    let clock = ports.clock
                    group.addTask {
                        try? await clock.sleep(for: wait)
                        return .backoffEnded
                    }
                }
            case .cancelled:
                try await interrupt(key, because: "the mission stopped")
            case .error(let message):
                try await interrupt(key, because: message)
                fatal = message
            }
        case .mergeEnded(let round):
            try await finish(round)
            if case .landed = round.outcome { pushLanded(&group) }
        }
        try await startNextMerge(&group)
    }
}
