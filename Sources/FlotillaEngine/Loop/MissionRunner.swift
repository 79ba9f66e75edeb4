import FlotillaCore
import Foundation

/// Drives a created mission to its end: dispatches attempts over the frontier, lands verified work through the
/// merge queue, applies the stall rule and the breakers, and runs the final verify.
///
/// The loop is one task that owns all scheduling state; attempts and landings run as child tasks and report back
/// to it, so no state is shared between tasks.
package struct MissionRunner: Sendable {
    package struct Ports: Sendable {
        package var ledger: any MissionLedger
        package var git: any GitRepository
        package var agent: any AgentBackend
        package var processes: any ProcessRunner
        package var clock: any Clock<Duration>
        package var now: @Sendable () -> Date
        /// Told of every attempt's milestones, for benchmarks and metrics.
        package var probe: (any MissionProbe)?
        /// Tells live missions from crashed ones and tracks children; without it nothing is tracked.
        package var processTable: (any ProcessTable)?
        /// Explains failed gates for the next prompt; none when not configured.
        package var critic: Critic?

        package init(
            ledger: any MissionLedger,
            git: any GitRepository,
            agent: any AgentBackend,
            processes: any ProcessRunner,
            clock: any Clock<Duration> = ContinuousClock(),
            now: @escaping @Sendable () -> Date = { Date() },
            probe: (any MissionProbe)? = nil,
            processTable: (any ProcessTable)? = nil,
            critic: Critic? = nil
        ) {
            self.critic = critic
            self.ledger = ledger
            self.git = git
            self.agent = agent
            self.processes = processes
            self.clock = clock
            self.now = now
            self.probe = probe
            self.processTable = processTable
        }
    }

    package struct Options: Sendable {
        /// The allowlisted environment agents and verify commands start from.
        package var environment: [String: String]
        package var verifyTimeout: Duration
        /// Keep each attempt's branch after the mission (for inspection); they are deleted otherwise.
        package var keepAttemptBranches: Bool
        /// At most this many waiting candidates land together under one regression verify.
        package var mergeBatch: Int
        /// How long every agent waits after one hits a rate limit or quota.
        package var rateLimitBackoff: RateLimitBackoff
        /// The sandbox of agent sessions and verify runs.
        package var sandbox: SandboxSettings

        package init(
            environment: [String: String],
            verifyTimeout: Duration = .seconds(1800),
            keepAttemptBranches: Bool = false,
            mergeBatch: Int = 1,
            rateLimitBackoff: RateLimitBackoff = RateLimitBackoff(),
            sandbox: SandboxSettings = .none
        ) {
            self.sandbox = sandbox
            self.rateLimitBackoff = rateLimitBackoff
            self.environment = environment
            self.verifyTimeout = verifyTimeout
            self.keepAttemptBranches = keepAttemptBranches
            self.mergeBatch = max(1, mergeBatch)
        }
    }

    private let ports: Ports
    private let options: Options
    private let layout: MissionLayout
    private let sink: any MissionEventSink

    package init(ports: Ports, options: Options, layout: MissionLayout, sink: any MissionEventSink) {
        self.ports = ports
        self.options = options
        self.layout = layout
        self.sink = sink
    }

    /// Runs the mission until it completes, blocks, trips a breaker, fails, or `stop` is signalled.
    package func run(_ id: MissionID, stop: CompletionSignal = CompletionSignal()) async throws -> MissionResult {
        guard let record = try await ports.ledger.mission(id) else {
            throw FlotillaError.notFound("no mission \(id) in this repository's ledger (see `flotilla list`)")
        }
        let spec = record.spec
        // Taken from the base commit again at every start: nothing kept on disk between runs is trusted.
        let trusted = try await TrustedFiles.derive(spec, git: ports.git)
        let gate = Gate(
            configuration: Gate.Configuration(
                mission: id,
                verifyCommand: spec.verifyCommand,
                checks: Dictionary(
                    uniqueKeysWithValues: spec.checklist.groups.compactMap { g in g.check.map { (g.id, $0) } }
                ),
                trustedFiles: trusted,
                timeout: options.verifyTimeout,
                environment: options.environment,
                sandbox: options.sandbox,
                objects: ports.git.objectsDirectory
            ),
            runner: ports.processes,
            layout: layout
        )
        let context = EngineContext(
            control: ControlContext(
                ledger: ports.ledger,
                git: ports.git,
                layout: layout,
                sink: sink,
                now: ports.now,
                probe: ports.probe
            ),
            agent: ports.agent,
            gate: gate,
            critic: ports.critic,
            sandbox: options.sandbox
        )
        if record.state == .completed {
            // A crash between recording the end and tidying up leaves worktrees and branches: tidy them now.
            try await MissionLoop(spec: spec, context: context, ports: ports, options: options).cleanUp()
            let head = try await ports.git.resolveCommit("refs/heads/\(spec.targetBranch)") ?? spec.baseCommit
            return MissionResult(reason: .completed, summary: "already completed", targetHead: head)
        }
        let recovery = MissionRecovery(context: context.control, processTable: ports.processTable)
        let resumed = record.state != .created || record.attempts > 0
        if resumed { try recovery.ensureNotRunningElsewhere(record) }
        // Recorded before recovery: it closes a crashed run's time at that run's last event, not at this one.
        try await context.record(
            .missionStarted(
                agents: spec.agents,
                backend: spec.backend,
                runner: ports.processTable?.current(),
                resumed: resumed,
                sandbox: options.sandbox.summary + (options.sandbox.note.map { " (\($0))" } ?? "")
            ),
            mission: id
        )
        context.probe?.mark(.checkpoint("mission.started"))
        if resumed {
            let actions = try await recovery.reconcile(record)
            try await context.record(.recovered(actions: actions), mission: id)
        }
        let prior = try await ports.ledger.mission(id)?.runningSeconds ?? 0
        var loop = try await MissionLoop(spec: spec, context: context, ports: ports, options: options)
        let tracker = ports.processTable?.tracker(recordingIn: layout.processesDirectory(id))
        return try await ProcessTracking.$current.withValue(tracker) {
            try await loop.run(stop: stop, priorRunning: .seconds(bounded: prior))
        }
    }
}

/// How a mission ended.
package struct MissionResult: Sendable, Equatable {
    package var reason: StopReason
    package var summary: String
    package var targetHead: String
}

/// Running time over all runs of a mission: the earlier runs' total plus this run's so far.
private struct RunningTime {
    let prior: Duration
    let stopwatch: Stopwatch

    var elapsed: Duration { prior + stopwatch.elapsed }
}

/// Signals the loop's child tasks send back.
private enum LoopSignal: Sendable {
    case attemptEnded(AttemptKey, slot: Int, AttemptResult, costUSD: Double)
    case mergeEnded(MergeRound)
    case stopRequested
    case wallClockExpired
    /// The wait after a rate limit is over.
    case backoffEnded
}

/// The state of one run of the loop; only the loop's own task touches it.
private struct MissionLoop {
    static let recentLandingsInPrompt = 20

    let spec: MissionSpec
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
    var mergeQueue: [MergeCandidate] = []
    /// Halves of a round whose verify failed, tried as they are before anything new.
    var splits: [[MergeCandidate]] = []
    var merging: [MergeCandidate]?
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
        // Planning was paid for before any attempt; a critic's calls are already in their attempt's cost.
        let planning = try await context.ledger.modelCalls(of: spec.id).filter { $0.call.role == .planner }
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
        // Attempts whose gate passed before the last run stopped wait to land again (recovery kept them queued).
        for attempt in attempts where attempt.outcome == nil && attempt.phase == .queued {
            mergeQueue.append(
                MergeCandidate(
                    key: attempt.key,
                    commit: attempt.commit ?? attempt.startCommit,
                    criteriaPassed: attempt.criteriaPassed
                )
            )
        }
        // The head is what Flotilla's own landings made it, never what the branch says: anyone may write a ref.
        let landed = attempts.filter { $0.outcome == .landed }
        targetHead =
            landed.max { ($0.finishedAt ?? .distantPast) < ($1.finishedAt ?? .distantPast) }?.landedCommit
            ?? spec.baseCommit
        targetTree = try await context.git.tree(of: targetHead)
    }

    /// Reports any move of the user's branches since the last look, with the attempts that ran meanwhile.
    ///
    /// Without a sandbox an agent can move them. Not undone: Flotilla cannot tell the user's own commits from an agent's
    /// there.
    private mutating func watchUserRefs() async throws {
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
    private func guardTarget(_ reason: String) async throws {
        try await TargetGuard(spec: spec, context: context.control).ensure(at: targetHead, reason: reason)
    }

    mutating func run(stop: CompletionSignal, priorRunning: Duration) async throws -> MissionResult {
        // Running time counts every run so far; time spent stopped or crashed does not.
        let started = RunningTime(prior: priorRunning, stopwatch: Stopwatch(clock: ports.clock))
        try await guardTarget("when the run started")
        if context.sandbox.mode == .none { userRefs = try await context.git.userRefs() }
        try await prepareStaging()
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
            for candidate in mergeQueue + splits.joined() {
                try await interrupt(candidate.key, because: "the mission stopped (\(reason.rawValue))")
            }
            mergeQueue.removeAll()
            splits.removeAll()
            return reason
        }
        // What is reported, and left behind, is Flotilla's last landing, whatever moved the branch meanwhile.
        try await guardTarget("when the mission ended")
        let summary = try await summarize(reason, elapsed: started.elapsed)
        try await context.record(.missionFinished(reason, summary: summary), mission: spec.id)
        context.probe?.mark(.checkpoint("mission.finished"))
        await cleanUp()
        return MissionResult(reason: reason, summary: summary, targetHead: targetHead)
    }

    private mutating func loop(
        group: inout ThrowingTaskGroup<LoopSignal, any Error>,
        started: RunningTime
    ) async throws -> StopReason {
        while true {
            if fatal != nil { return .failed }
            // While a rate-limit wait runs no slot is free, and the wait is work in flight, unless nothing is left
            // to dispatch anyway.
            let holding = backingOff && tripped == nil && !progress.allDone
            let context = DispatchContext(
                idleSlots: holding ? 0 : freeSlots.count,
                inFlight: running.count + mergeQueue.count + splits.joined().count + (merging?.count ?? 0)
                    + (holding ? 1 : 0),
                runningAttempts: running.count,
                spentUSD: spentUSD,
                estimatedAttemptUSD: estimator.estimateUSD,
                attemptsStarted: attemptsStarted,
                elapsed: started.elapsed,
                limits: spec.limits,
                stopRequested: stopRequested,
                tripped: tripped
            )
            let (step, trip) = Dispatcher.next(progress, context)
            if let trip, tripped == nil {
                tripped = trip
                try await self.context.record(.breakerTripped(trip), mission: spec.id)
            }
            switch step {
            case .finish(let reason):
                return reason
            case .finalVerify:
                return try await finalVerify()
            case .dispatch(let groups):
                for id in groups { try await dispatch(id, into: &group) }
            case .wait:
                break
            }
            // Candidates may be waiting with nothing running (restored after a crash): start a landing first.
            try await startNextMerge(&group)
            guard let signal = try await group.next() else { return .failed }
            try await handle(signal, group: &group)
        }
    }

    // MARK: - Attempts

    private mutating func dispatch(
        _ groupID: String,
        into group: inout ThrowingTaskGroup<LoopSignal, any Error>
    ) async throws {
        guard let checklistGroup = spec.checklist.group(groupID), let state = progress[groupID], !freeSlots.isEmpty
        else { return }
        let slot = freeSlots.removeFirst()
        let key = AttemptKey(group: groupID, number: state.attempts + 1)
        context.probe?.mark(.dispatched(key, slot: slot))
        attemptsStarted += 1
        progress.claim(groupID)
        running[key] = slot
        ranSinceRefCheck.append(key)
        let check = context.gate.description(of: groupID)
        // The prompt names what matters to this group — its dependencies — and the latest landings; the rest
        // is counted, so that prompts stay short in missions with many groups.
        let shownDone =
            checklistGroup.dependsOn
            + progress.recentlyDone(limit: Self.recentLandingsInPrompt).filter {
                !checklistGroup.dependsOn.contains($0)
            }
            .prefix(max(0, Self.recentLandingsInPrompt - checklistGroup.dependsOn.count))
        let brief = AttemptBrief(
            mission: spec.id,
            goal: spec.goal,
            group: checklistGroup,
            attempt: key.number,
            doneGroups: shownDone.compactMap { id in spec.checklist.group(id).map { (id, $0.title) } },
            moreDoneGroups: max(0, progress.doneCount - shownDone.count),
            protectedPatterns: spec.protectedPatterns,
            checkCommand: check.command,
            checkGroups: check.groups,
            feedback: feedback[groupID] ?? [],
            escalation: state.escalation,
            testsProtected: spec.options.allowTestEdits != true
        )
        let lease = spec.limits.attemptTimeout + options.verifyTimeout * 2 + .seconds(300)
        try await context.record(
            .attemptStarted(
                AttemptStart(
                    key: key,
                    sequence: attemptsStarted,
                    slot: slot,
                    backend: spec.backend,
                    startCommit: targetHead,
                    branch: MissionLayout.attemptBranch(spec.id, key),
                    worktree: context.layout.slotWorktree(spec.id, slot),
                    promptPath: context.layout.prompt(spec.id, key),
                    transcriptPath: context.layout.transcript(spec.id, key),
                    claimExpiresAt: context.now().addingTimeInterval(lease.seconds),
                    sandbox: options.sandbox.summary
                )
            ),
            mission: spec.id
        )
        context.probe?.mark(.checkpoint("attempt.recorded"))
        let execution = AttemptExecution(
            mission: spec,
            key: key,
            slot: slot,
            startCommit: targetHead,
            prompt: AttemptPrompt.render(brief),
            context: context,
            // The rest of the budget, less what the sessions already running are expected to spend.
            budgetUSD: spec.limits.maxCostUSD.map {
                max(0, $0 - spentUSD - Double(running.count - 1) * estimator.estimateUSD)
            }
        )
        group.addTask {
            let (result, cost) = await AttemptContext.$current.withValue([key]) { await execution.run() }
            return .attemptEnded(key, slot: slot, result, costUSD: cost)
        }
    }

    private mutating func handle(
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
        case .attemptEnded(let key, let slot, let result, let cost):
            running[key] = nil
            try await watchUserRefs()
            freeSlots.append(slot)
            freeSlots.sort()
            context.probe?.mark(.slotFree(slot))
            spentUSD += cost
            if cost > 0 { estimator.record(costUSD: cost) }
            switch result {
            case .passed(let commit, let criteria):
                consecutiveRateLimits = 0
                mergeQueue.append(MergeCandidate(key: key, commit: commit, criteriaPassed: criteria))
                context.probe?.mark(.queued(key))
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
                    let wait = options.rateLimitBackoff.delay(
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
            merging = nil
            try await finish(round)
        }
        try await startNextMerge(&group)
    }

    /// Starts the next landing round: a split half if one waits, else up to `mergeBatch` waiting candidates.
    private mutating func startNextMerge(_ group: inout ThrowingTaskGroup<LoopSignal, any Error>) async throws {
        guard merging == nil, fatal == nil, !stopRequested else { return }
        let batch: [MergeCandidate]
        if !splits.isEmpty {
            batch = splits.removeFirst()
        } else if !mergeQueue.isEmpty {
            batch = Array(mergeQueue.prefix(options.mergeBatch))
            mergeQueue.removeFirst(batch.count)
        } else {
            return
        }
        merging = batch
        let keys = batch.map(\.key)
        try await context.record(.mergeStarted(keys, targetHead: targetHead), mission: spec.id)
        context.probe?.mark(.checkpoint("merge.started"))
        let execution = MergeExecution(
            mission: spec,
            candidates: batch,
            head: targetHead,
            headTree: targetTree,
            landedGroups: progress.doneIDs,
            context: context
        )
        context.probe?.mark(.mergeStarting(keys))
        group.addTask { .mergeEnded(await AttemptContext.$current.withValue(keys) { await execution.run() }) }
    }

    /// Records what a landing round did: landings, conflicts, candidates to try again, and failures.
    private mutating func finish(_ round: MergeRound) async throws {
        for (candidate, files, messages) in round.conflicts {
            try await conclude(
                candidate.key,
                .conflict,
                reason: "conflicts with landed work in \(files.joined(separator: ", "))",
                feedback: Feedback.conflict(files: files, messages: messages),
                criteriaPassed: candidate.criteriaPassed
            )
        }
        if !round.deferred.isEmpty {
            try await context.record(
                .mergeRequeued(
                    round.deferred.map(\.key),
                    reason: "conflicts with another candidate of the same landing; tries again in the next one",
                    verification: nil
                ),
                mission: spec.id
            )
            mergeQueue.insert(contentsOf: round.deferred, at: 0)
        }
        let keys = round.included.map(\.key)
        switch round.outcome {
        case .nothingToLand:
            break
        case .landed(let commit, let tree, let regression):
            try await context.record(
                .attemptsLanded(keys, landedCommit: commit, regression: regression),
                mission: spec.id
            )
            context.probe?.mark(.checkpoint("merge.landed"))
            targetHead = commit
            targetTree = tree
            for key in keys {
                let ready = progress.markDone(key.group)
                context.probe?.mark(.ready(ready))
                context.probe?.mark(.concluded(key))
            }
        case .regression(let verification) where round.included.count == 1:
            let candidate = round.included[0]
            try await conclude(
                candidate.key,
                .regression,
                reason: "breaks landed groups: regression verify of \(verification.commit.shortSHA) failed, "
                    + Feedback.headline(verification),
                feedback: Feedback.regression(verification),
                criteriaPassed: candidate.criteriaPassed,
                verification: verification
            )
        case .regression(let verification):
            // Bisect: the halves are tried apart, until the candidate that breaks things is alone.
            try await context.record(
                .mergeRequeued(
                    keys,
                    reason: "their landing failed its regression verify (\(Feedback.headline(verification))); "
                        + "trying them apart",
                    verification: verification
                ),
                mission: spec.id
            )
            let half = round.included.count / 2
            splits.insert(contentsOf: [Array(round.included[..<half]), Array(round.included[half...])], at: 0)
        case .cancelled:
            for key in keys { try await interrupt(key, because: "the mission stopped while landing") }
        case .error(let message):
            for key in keys { try await interrupt(key, because: message) }
            fatal = message
        }
    }

    /// Ends an attempt that neither failed nor landed: the mission stopped, or Flotilla could not go on.
    private mutating func interrupt(_ key: AttemptKey, because reason: String) async throws {
        try await conclude(
            key,
            .interrupted,
            reason: reason,
            feedback: Feedback.interrupted(reason),
            criteriaPassed: nil
        )
    }

    /// Ends an attempt that did not land: feedback for the next one, the stall rule, blocking.
    private mutating func conclude(
        _ key: AttemptKey,
        _ outcome: AttemptOutcome,
        reason: String,
        feedback text: String,
        criteriaPassed: Int?,
        verification: Verification? = nil,
        countsTowardsStall: Bool = true
    ) async throws {
        guard let group = progress[key.group] else { return }
        var assessment: StallAssessment?
        var status = GroupStatus.pending
        var blockedDependents: [String] = []
        if outcome != .interrupted && countsTowardsStall {
            let verdict = stallRule.assess(group, outcome: outcome, criteriaPassed: criteriaPassed)
            assessment = verdict
            progress.update(key.group, with: verdict)
            if verdict.block {
                status = .blocked
                blockedDependents = progress.block(key.group)
            }
        }
        if status == .pending {
            progress.release(key.group)
            context.probe?.mark(.ready([key.group]))
        }
        context.probe?.mark(.concluded(key))
        feedback[key.group, default: []].append(AttemptFeedback(attempt: key.number, outcome: outcome, text: text))
        try await context.record(
            .attemptFailed(
                AttemptConclusion(
                    key: key,
                    outcome: outcome,
                    reason: reason,
                    feedback: text,
                    stall: assessment,
                    groupStatus: status,
                    blockedDependents: blockedDependents,
                    verification: verification,
                    criteriaPassed: criteriaPassed
                )
            ),
            mission: spec.id
        )
        context.probe?.mark(.checkpoint("attempt.concluded"))
    }

    private mutating func finishInterrupted(_ signal: LoopSignal, reason: StopReason) async throws {
        switch signal {
        case .attemptEnded(let key, _, _, let cost):
            // Even an attempt whose gate passed just now will not land: the mission is over.
            running[key] = nil
            spentUSD += cost
            try await interrupt(key, because: "the mission stopped (\(reason.rawValue))")
        case .mergeEnded(var round):
            // A landing that completed stays landed; anything else of the round is interrupted.
            merging = nil
            if case .landed = round.outcome {
                for candidate in round.deferred {
                    try await interrupt(candidate.key, because: "the mission stopped (\(reason.rawValue))")
                }
                round.deferred = []
                try await finish(round)
            } else {
                for candidate in round.included + round.deferred {
                    try await interrupt(candidate.key, because: "the mission stopped (\(reason.rawValue))")
                }
                for (candidate, _, _) in round.conflicts {
                    try await interrupt(candidate.key, because: "the mission stopped (\(reason.rawValue))")
                }
            }
        case .stopRequested, .wallClockExpired, .backoffEnded:
            break
        }
    }

    // MARK: - Verification and the end

    private func prepareStaging() async throws {
        let staging = context.layout.stagingWorktree(spec.id)
        try await context.checkout(targetHead, into: staging, mission: spec.id)
    }

    private mutating func finalVerify() async throws -> StopReason {
        try await guardTarget("before the final verify")
        let staging = context.layout.stagingWorktree(spec.id)
        try await context.checkout(targetHead, into: staging, mission: spec.id)
        let verification = try await context.gate.verify(
            kind: .final,
            attempt: nil,
            commit: targetHead,
            in: staging,
            groups: spec.checklist.groupIDs,
            logPath: context.layout.finalVerifyLog(spec.id)
        )
        try await context.record(.finalVerifyFinished(verification), mission: spec.id)
        context.probe?.mark(.checkpoint("final.verified"))
        return verification.passed ? .completed : .failed
    }

    private func summarize(_ reason: StopReason, elapsed: Duration) async throws -> String {
        let attempts = try await context.ledger.attempts(of: spec.id)
        let done = progress.count(.done)
        let failed = attempts.filter { $0.outcome != nil && $0.outcome != .landed }
        var parts = [
            "\(done)/\(progress.groups.count) groups landed",
            "\(attempts.count) attempt\(attempts.count == 1 ? "" : "s")",
        ]
        if !failed.isEmpty {
            let counts = Dictionary(grouping: failed, by: { $0.outcome?.rawValue ?? "?" }).mapValues(\.count)
            parts.append(
                "\(failed.count) not landed ("
                    + counts.keys.sorted().map { "\(counts[$0] ?? 0) \($0)" }.joined(separator: ", ") + ")"
            )
        }
        parts.append(formatUSD(spentUSD))
        parts.append(elapsed.shortDescription)
        let blocked = progress.groups.filter { $0.status == .blocked }.map(\.id)
        if !blocked.isEmpty { parts.append("blocked: \(blocked.joined(separator: ", "))") }
        if let fatal { parts.append("error: \(fatal)") }
        if let tripped { parts.append(tripped.detail) }
        return parts.joined(separator: ", ")
    }

    /// Removes the mission's checkouts and attempt branches; the target branch stays.
    func cleanUp() async {
        // Processes first: nothing may still be writing into the checkouts being removed.
        if let processTable = ports.processTable {
            _ = await processTable.reap(recordedIn: context.layout.processesDirectory(spec.id), grace: .seconds(2))
            _ = await processTable.end(carrying: "FLOTILLA_MISSION=\(spec.id)", grace: .seconds(2))
        }
        _ = await MissionCheckouts(git: context.git, layout: context.layout).removeAll(spec.id)
        let git = context.git
        guard !options.keepAttemptBranches else { return }
        let attempts = (try? await context.ledger.attempts(of: spec.id)) ?? []
        try? await git.deleteBranches(attempts.map(\.branch))
    }
}
