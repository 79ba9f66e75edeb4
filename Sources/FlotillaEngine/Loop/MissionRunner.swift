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

        package init(
            ledger: any MissionLedger,
            git: any GitRepository,
            agent: any AgentBackend,
            processes: any ProcessRunner,
            clock: any Clock<Duration> = ContinuousClock(),
            now: @escaping @Sendable () -> Date = { Date() }
        ) {
            self.ledger = ledger
            self.git = git
            self.agent = agent
            self.processes = processes
            self.clock = clock
            self.now = now
        }
    }

    package struct Options: Sendable {
        /// The allowlisted environment agents and verify commands start from.
        package var environment: [String: String]
        package var verifyTimeout: Duration
        /// Keep each attempt's branch after the mission (for inspection); they are deleted otherwise.
        package var keepAttemptBranches: Bool

        package init(
            environment: [String: String],
            verifyTimeout: Duration = .seconds(1800),
            keepAttemptBranches: Bool = false
        ) {
            self.environment = environment
            self.verifyTimeout = verifyTimeout
            self.keepAttemptBranches = keepAttemptBranches
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
        guard let record = try await ports.ledger.mission(id) else { throw EngineError.unknownMission(id) }
        let spec = record.spec
        let trusted = try TrustedFiles.load(layout.trustedDirectory(id))
        let gate = Gate(
            configuration: Gate.Configuration(
                mission: id,
                verifyCommand: spec.verifyCommand,
                checks: Dictionary(
                    uniqueKeysWithValues: spec.checklist.groups.compactMap { g in g.check.map { (g.id, $0) } }
                ),
                trustedFiles: trusted,
                timeout: options.verifyTimeout,
                environment: options.environment
            ),
            runner: ports.processes,
            layout: layout
        )
        let context = EngineContext(
            ledger: ports.ledger,
            git: ports.git,
            agent: ports.agent,
            gate: gate,
            layout: layout,
            sink: sink,
            now: ports.now
        )
        var loop = try await MissionLoop(spec: spec, context: context, ports: ports, options: options)
        return try await loop.run(stop: stop)
    }
}

/// How a mission ended.
package struct MissionResult: Sendable, Equatable {
    package var reason: StopReason
    package var summary: String
    package var targetHead: String
}

package enum EngineError: Error, Sendable, CustomStringConvertible {
    case unknownMission(MissionID)
    case setup(String)

    package var description: String {
        switch self {
        case .unknownMission(let id): "no mission \(id) in this repository's ledger (see `flotilla list`)"
        case .setup(let detail): detail
        }
    }
}

/// Signals the loop's child tasks send back.
private enum LoopSignal: Sendable {
    case attemptEnded(AttemptKey, slot: Int, AttemptResult, costUSD: Double)
    case mergeEnded(MergeCandidate, MergeResult)
    case stopRequested
    case wallClockExpired
}

/// The state of one run of the loop; only the loop's own task touches it.
private struct MissionLoop {
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
    var merging: MergeCandidate?
    var feedback: [String: [AttemptFeedback]] = [:]
    var targetHead: String
    var tripped: BreakerTrip?
    var stopRequested = false
    var fatal: String?

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
        spentUSD = attempts.reduce(0) { $0 + $1.usage.costUSD }
        attemptsStarted = attempts.count
        for attempt in attempts where attempt.usage.costUSD > 0 { estimator.record(costUSD: attempt.usage.costUSD) }
        for attempt in attempts {
            guard let outcome = attempt.outcome, outcome != .landed, let text = attempt.feedback else { continue }
            feedback[attempt.key.group, default: []].append(
                AttemptFeedback(attempt: attempt.key.number, outcome: outcome, text: text)
            )
        }
        freeSlots = Array(1...max(1, spec.agents))
        guard let head = try await context.git.resolveCommit("refs/heads/\(spec.targetBranch)") else {
            throw EngineError.setup("the target branch \(spec.targetBranch) does not exist; was it deleted?")
        }
        targetHead = head
    }

    mutating func run(stop: CompletionSignal) async throws -> MissionResult {
        let started = Stopwatch(clock: ports.clock)
        try await context.record(.missionStarted(agents: spec.agents, backend: spec.backend), mission: spec.id)
        try await prepareStaging()

        let reason = try await withThrowingTaskGroup(of: LoopSignal.self) { group in
            group.addTask {
                await stop.wait()
                return .stopRequested
            }
            if let wallClock = spec.limits.maxWallClock {
                let clock = ports.clock
                group.addTask {
                    // Cancelled when the mission ends first; the loop ignores the signal then.
                    try? await clock.sleep(for: wallClock)
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
            for candidate in mergeQueue {
                try await interrupt(candidate.key, because: "the mission stopped (\(reason.rawValue))")
            }
            mergeQueue.removeAll()
            return reason
        }
        let summary = try await summarize(reason, elapsed: started.elapsed)
        try await context.record(.missionFinished(reason, summary: summary), mission: spec.id)
        await cleanUp()
        return MissionResult(reason: reason, summary: summary, targetHead: targetHead)
    }

    private mutating func loop(
        group: inout ThrowingTaskGroup<LoopSignal, any Error>,
        started: Stopwatch
    ) async throws -> StopReason {
        while true {
            if fatal != nil { return .failed }
            let context = DispatchContext(
                idleSlots: freeSlots.count,
                inFlight: running.count + mergeQueue.count + (merging == nil ? 0 : 1),
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
        attemptsStarted += 1
        progress.claim(groupID)
        running[key] = slot
        let check = context.gate.description(of: groupID)
        let brief = AttemptBrief(
            mission: spec.id,
            goal: spec.goal,
            group: checklistGroup,
            attempt: key.number,
            doneGroups: progress.doneIDs.compactMap { id in spec.checklist.group(id).map { (id, $0.title) } },
            protectedPatterns: spec.protectedPatterns,
            checkCommand: check.command,
            checkGroups: check.groups,
            feedback: feedback[groupID] ?? [],
            escalation: state.escalation
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
                    worktree: context.layout.worktree(spec.id, key),
                    promptPath: context.layout.prompt(spec.id, key),
                    transcriptPath: context.layout.transcript(spec.id, key),
                    claimExpiresAt: context.now().addingTimeInterval(lease.seconds)
                )
            ),
            mission: spec.id
        )
        let execution = AttemptExecution(
            mission: spec,
            key: key,
            startCommit: targetHead,
            prompt: AttemptPrompt.render(brief),
            context: context
        )
        group.addTask {
            let (result, cost) = await execution.run()
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
        case .attemptEnded(let key, let slot, let result, let cost):
            running[key] = nil
            freeSlots.append(slot)
            freeSlots.sort()
            spentUSD += cost
            if cost > 0 { estimator.record(costUSD: cost) }
            switch result {
            case .passed(let commit, let criteria):
                mergeQueue.append(MergeCandidate(key: key, commit: commit, criteriaPassed: criteria))
            case .failed(let outcome, let reason, let text, let criteria):
                try await conclude(key, outcome, reason: reason, feedback: text, criteriaPassed: criteria)
            case .cancelled:
                try await interrupt(key, because: "the mission stopped")
            case .error(let message):
                try await interrupt(key, because: message)
                fatal = message
            }
        case .mergeEnded(let candidate, let result):
            merging = nil
            try await landed(candidate, result)
        }
        startNextMerge(&group)
    }

    private mutating func startNextMerge(_ group: inout ThrowingTaskGroup<LoopSignal, any Error>) {
        guard merging == nil, fatal == nil, !stopRequested, !mergeQueue.isEmpty else { return }
        let candidate = mergeQueue.removeFirst()
        merging = candidate
        let checklistGroup = spec.checklist.group(candidate.key.group)
        let execution = MergeExecution(
            mission: spec,
            candidate: candidate,
            title: checklistGroup?.title ?? candidate.key.group,
            criteria: checklistGroup?.criteria ?? [],
            landedGroups: progress.doneIDs,
            context: context
        )
        group.addTask { .mergeEnded(candidate, await execution.run()) }
    }

    private mutating func landed(_ candidate: MergeCandidate, _ result: MergeResult) async throws {
        let key = candidate.key
        switch result {
        case .landed(let commit, let regression):
            try await context.record(
                .attemptLanded(key, landedCommit: commit, regression: regression),
                mission: spec.id
            )
            targetHead = commit
            progress.markDone(key.group)
        case .conflict(let files, let messages):
            try await conclude(
                key,
                .conflict,
                reason: "conflicts with landed work in \(files.joined(separator: ", "))",
                feedback: Feedback.conflict(files: files, messages: messages),
                criteriaPassed: candidate.criteriaPassed
            )
        case .regression(let verification):
            try await conclude(
                key,
                .regression,
                reason: "breaks landed groups: regression verify of \(verification.commit.shortSHA) failed, "
                    + Feedback.headline(verification),
                feedback: Feedback.regression(verification),
                criteriaPassed: candidate.criteriaPassed,
                verification: verification
            )
        case .cancelled:
            try await interrupt(key, because: "the mission stopped while landing")
        case .error(let message):
            try await interrupt(key, because: message)
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
        verification: Verification? = nil
    ) async throws {
        guard let group = progress[key.group] else { return }
        var assessment: StallAssessment?
        var status = GroupStatus.pending
        var blockedDependents: [String] = []
        if outcome != .interrupted {
            let verdict = stallRule.assess(group, outcome: outcome, criteriaPassed: criteriaPassed)
            assessment = verdict
            progress.update(key.group, with: verdict)
            if verdict.block {
                status = .blocked
                blockedDependents = progress.block(key.group)
            }
        }
        if status == .pending { progress.release(key.group) }
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
    }

    private mutating func finishInterrupted(_ signal: LoopSignal, reason: StopReason) async throws {
        switch signal {
        case .attemptEnded(let key, _, _, let cost):
            // Even an attempt whose gate passed just now will not land: the mission is over.
            running[key] = nil
            spentUSD += cost
            try await interrupt(key, because: "the mission stopped (\(reason.rawValue))")
        case .mergeEnded(let candidate, let result):
            merging = nil
            if case .landed = result {
                try await landed(candidate, result)
            } else {
                try await interrupt(candidate.key, because: "the mission stopped (\(reason.rawValue))")
            }
        case .stopRequested, .wallClockExpired:
            break
        }
    }

    // MARK: - Verification and the end

    private func prepareStaging() async throws {
        let staging = context.layout.stagingWorktree(spec.id)
        if FileManager.default.fileExists(atPath: staging) {
            try await context.git.removeWorktree(path: staging)
        }
        try FileManager.default.createDirectory(
            atPath: (staging as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try await context.git.addDetachedWorktree(path: staging, at: targetHead)
    }

    private mutating func finalVerify() async throws -> StopReason {
        let staging = context.layout.stagingWorktree(spec.id)
        try await context.git.checkoutDetached(worktree: staging, at: targetHead)
        let verification = try await context.gate.verify(
            kind: .final,
            attempt: nil,
            commit: targetHead,
            in: staging,
            groups: spec.checklist.groupIDs,
            logPath: context.layout.finalVerifyLog(spec.id)
        )
        try await context.record(.finalVerifyFinished(verification), mission: spec.id)
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

    /// Removes the mission's worktrees and attempt branches; the target branch stays.
    private func cleanUp() async {
        let git = context.git
        let attempts = (try? await context.ledger.attempts(of: spec.id)) ?? []
        for attempt in attempts where FileManager.default.fileExists(atPath: attempt.worktree) {
            try? await git.removeWorktree(path: attempt.worktree)
        }
        try? await git.removeWorktree(path: context.layout.stagingWorktree(spec.id))
        try? FileManager.default.removeItem(atPath: context.layout.worktrees(spec.id))
        try? await git.pruneWorktrees()
        guard !options.keepAttemptBranches else { return }
        for attempt in attempts {
            try? await git.deleteBranch(attempt.branch)
        }
    }
}

/// The trusted copies of the gate's scripts, taken from the base commit when the mission was created.
package enum TrustedFiles {
    package static func save(_ files: [String: String], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let manifest = try JSONEncoder().encode(files)
        try manifest.write(to: URL(fileURLWithPath: directory).appendingPathComponent("files.json"))
    }

    package static func load(_ directory: String) throws -> [String: String] {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("files.json")
        guard let data = FileManager.default.contents(atPath: path.path) else { return [:] }
        return try JSONDecoder().decode([String: String].self, from: data)
    }
}
