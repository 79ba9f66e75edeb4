import FlotillaCore
import Foundation

/// Running time over all runs of a mission: the earlier runs' total plus this run's so far.
struct RunningTime {
    let prior: Duration
    let stopwatch: Stopwatch

    var elapsed: Duration { prior + stopwatch.elapsed }
}

/// One run of a mission: a thin loop over its capabilities (``Capabilities``).
///
/// Each turn it asks the scheduler what to do next, lets every capability act, and waits for the next event from its
/// children — attempts, landings, pushes, timers. Capabilities own their state and answer with actions; the loop
/// performs them: it alone writes the ledger, starts children and talks to the probe, and only its own task touches
/// the state, so nothing is shared between tasks.
struct MissionLoop {
    /// What children send: something that happened, or their answer (their last word).
    enum Delivery: Sendable {
        case update(LoopEvent)
        case answer(LoopEvent)

        var event: LoopEvent {
            switch self {
            case .update(let event), .answer(let event): event
            }
        }
    }

    /// The mission; its checklist grows when the objective check adds groups.
    var spec: MissionSpec
    let context: EngineContext
    let ports: MissionRunner.Ports
    let environment: LoopEnvironment
    var capabilities: Capabilities
    var stopRequested = false
    /// Why Flotilla itself cannot go on.
    var fatal: String?
    /// Set by a capability that ended the mission.
    var finished: StopReason?
    /// Set while the loop winds down.
    var stopping: StopReason?

    init(
        spec: MissionSpec,
        context: EngineContext,
        ports: MissionRunner.Ports,
        options: MissionRunner.Options
    ) async throws {
        self.spec = spec
        self.context = context
        self.ports = ports
        environment = LoopEnvironment(
            context: context,
            executor: ports.executor ?? LocalAttemptExecutor(mission: spec, context: context),
            clock: ports.clock
        )
        capabilities = Capabilities(try await MissionSnapshot.read(spec, context: context, sandbox: options.sandbox))
        capabilities.spending.daily = options.dailyCostUSD.map { DailyCostLimit(limitUSD: $0, othersUSD: 0) }
    }

    /// What capabilities may read of each other now.
    var view: LoopView {
        let scheduling = capabilities.scheduling
        return LoopView(
            spec: spec,
            now: ports.now(),
            targetHead: capabilities.landing.targetHead,
            freeSlots: scheduling.freeSlots.count,
            runningAttempts: Array(scheduling.running.keys),
            attemptsStarted: scheduling.attemptsStarted,
            spentUSD: capabilities.spending.spentUSD,
            estimatedAttemptUSD: capabilities.spending.estimator.estimateUSD,
            dailyCost: capabilities.spending.daily,
            stopRequested: stopRequested,
            failed: fatal != nil,
            stopping: stopping
        )
    }

    var targetHead: String { capabilities.landing.targetHead }

    mutating func run(stop: CompletionSignal, priorRunning: Duration) async throws -> MissionResult {
        // Running time counts every run so far; time spent stopped or crashed does not.
        let started = RunningTime(prior: priorRunning, stopwatch: Stopwatch(clock: ports.clock))
        try await guardTarget("when the run started")
        if context.sandbox.mode == .none { capabilities.refWatch.known = try await context.git.userRefs() }
        try await context.checkout(targetHead, into: context.layout.stagingWorktree(spec.id), mission: spec.id)

        let (deliveries, inbox) = AsyncStream.makeStream(of: Delivery.self)
        var incoming = deliveries.makeAsyncIterator()
        let environment = self.environment
        var reason = StopReason.failed
        // Children the loop cancels when the mission ends, and those it lets finish (pushes).
        await withDiscardingTaskGroup { lasting in
            await withDiscardingTaskGroup { children in
                func spawn(_ work: any ChildWork) {
                    let body: @Sendable () async -> Void = {
                        let answer = await work.run(in: environment) { inbox.yield(.update($0)) }
                        inbox.yield(.answer(answer))
                    }
                    if work.finishesOnStop {
                        lasting.addTask(operation: body)
                    } else {
                        _ = children.addTaskUnlessCancelled(operation: body)
                    }
                }
                reason = await drive(&incoming, spawn, stop: stop, started: started)
                children.cancelAll()
            }
        }
        // Every child has ended; what they said meanwhile is recorded, with the mission over: nothing new starts.
        inbox.finish()
        stopping = reason
        while let delivery = await incoming.next() {
            try await perform(hear(delivery.event)) { _ in }
        }
        try await perform(capabilities.stop(reason, view)) { _ in }

        // What is reported, and left behind, is Flotilla's last landing, whatever moved the branch meanwhile.
        try await guardTarget("when the mission ended")
        if let push = capabilities.publisher.finalPush(reason, head: targetHead, base: spec.baseCommit) {
            let answer = await push.run(in: environment) { _ in }
            try await perform(hear(answer)) { _ in }
        }
        let summary = try await summarize(reason, elapsed: started.elapsed)
        try await context.record(.missionFinished(reason, summary: summary), mission: spec.id)
        context.probe?.mark(.checkpoint("mission.finished"))
        await MissionCleanUp(spec: spec, context: context, processTable: ports.processTable).run()
        return MissionResult(reason: reason, summary: summary, targetHead: targetHead)
    }

    /// The turns of the loop, until the mission ends; why it ended.
    private mutating func drive(
        _ incoming: inout AsyncStream<Delivery>.Iterator,
        _ spawn: (any ChildWork) -> Void,
        stop: CompletionSignal,
        started: RunningTime
    ) async -> StopReason {
        do {
            try await perform(capabilities.begin(view), spawn)
            for slot in capabilities.scheduling.freeSlots { context.probe?.mark(.slotFree(slot)) }
            context.probe?.mark(.ready(capabilities.scheduling.progress.frontier))
            spawn(StopWatch(signal: stop))
            if let wallClock = spec.limits.maxWallClock {
                spawn(LoopTimer(delay: wallClock - started.prior, event: .wallClockExpired))
            }
            while true {
                if fatal != nil { return .failed }
                if let finished { return finished }
                // Once every group landed, the ending has the mission until it says how it ends.
                if !capabilities.ending.isActive {
                    // Other missions spend too: before a slot is filled, the day's spending is read again.
                    if capabilities.spending.daily != nil, !capabilities.scheduling.freeSlots.isEmpty {
                        let others = try await context.ledger.spentSince(
                            ports.now().addingTimeInterval(-DailyCostLimit.window),
                            excluding: spec.id
                        )
                        capabilities.spending.daily?.othersUSD = others
                    }
                    let totals = capabilities.totals()
                    let (step, trip) = capabilities.scheduling.decide(view, elapsed: started.elapsed, totals: totals)
                    if let trip { try await perform([.record(.breakerTripped(trip))], spawn) }
                    switch step {
                    case .finish(let reason):
                        return reason
                    case .finalVerify:
                        try await perform(hear(.allLanded), spawn)
                    case .dispatch(let groups):
                        for group in groups { try await dispatch(group, spawn) }
                    case .wait:
                        break
                    }
                    if fatal != nil { return .failed }
                    if let finished { return finished }
                }
                try await perform(capabilities.tick(view), spawn)
                guard let delivery = await incoming.next() else { return .failed }
                try await perform(hear(delivery.event), spawn)
            }
        } catch {
            // Flotilla itself cannot go on (git, disk, ledger): end the mission as failed, never leave it running.
            fatal = fatal ?? "\(error)"
            return .failed
        }
    }

    /// Starts attempts on a group, as every capability shapes them.
    private mutating func dispatch(_ group: String, _ spawn: (any ChildWork) -> Void) async throws {
        guard let plan = capabilities.scheduling.plan(group, from: targetHead) else { return }
        try await perform(hear(.dispatching(capabilities.shape(plan, view))), spawn)
    }

    /// Tells every capability about `event`; what they answer.
    private mutating func hear(_ event: LoopEvent) -> [LoopAction] {
        switch event {
        case .stopRequested where stopping == nil:
            stopRequested = true
        case .failed(let message):
            fatal = fatal ?? message
        case .attemptResult(let plan, let result):
            if let taken = capabilities.take(plan, result, view) { return taken }
        default:
            break
        }
        return capabilities.on(event, view)
    }

    /// Performs actions in order; what an action leads to is performed before the actions after it.
    private mutating func perform(_ actions: [LoopAction], _ spawn: (any ChildWork) -> Void) async throws {
        var pending = actions
        while !pending.isEmpty {
            switch pending.removeFirst() {
            case .record(let change, let checkpoint):
                try await context.record(change, mission: spec.id)
                if let checkpoint { context.probe?.mark(.checkpoint(checkpoint)) }
            case .recordUnlessRefused(let change, let then):
                if (try? await context.record(change, mission: spec.id)) != nil {
                    pending.insert(contentsOf: hear(then), at: 0)
                }
            case .mark(let mark):
                context.probe?.mark(mark)
            case .notify(let event):
                pending.insert(contentsOf: hear(event), at: 0)
            case .spawn(let work):
                spawn(work)
            case .after(let delay, let event):
                spawn(LoopTimer(delay: delay, event: event))
            case .replaceChecklist(let checklist):
                spec.checklist = checklist
            case .finish(let reason):
                finished = finished ?? reason
            case .fail(let message):
                fatal = fatal ?? message
            }
        }
    }

    /// Puts the target branch back at ``targetHead`` if anything else moved it, and records that.
    private func guardTarget(_ reason: String) async throws {
        if let restored = try await TargetGuard(spec: spec, git: context.git).ensure(at: targetHead, reason: reason) {
            try await context.record(restored, mission: spec.id)
        }
    }
}
