import FlotillaCore
import Foundation

/// An attempt run as a pipeline's steps instead of one session (a group's `Pipeline:` line, or `--pipeline`).
///
/// Each step is its own confined session in the attempt's checkout, reading earlier steps' files in
/// `FLOTILLA_STEP_IN` and leaving its own in `FLOTILLA_STEP_OUT`; every try leaves fixed files under the attempt's
/// `steps/` and a row in the ledger. A read-only step's changes are discarded, a writing step's changes outside its
/// `paths` taken back, and each writing step's work is snapshotted. What the steps leave is then judged like any
/// session's work by the attempt's steps after this one (snapshot, guards, the gate): the gate alone decides.
struct PipelineStepsStep: AttemptStep {
    let pipeline: Pipeline

    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        let files = PipelineFiles(
            directory: environment.layout.pipelineDirectory(state.plan.mission, state.key),
            pipeline: pipeline
        )
        try FileManager.default.createDirectory(atPath: files.steps, withIntermediateDirectories: true)
        var run = PipelineRun(pipeline: pipeline, startCommit: state.plan.startCommit)
        // An earlier attempt of the group that a crash interrupted mid-way: its finished steps are not run again.
        for number in stride(from: state.key.number - 1, through: 1, by: -1) {
            let earlier = PipelineFiles(
                directory: environment.layout.pipelineDirectory(
                    state.plan.mission,
                    AttemptKey(group: state.key.group, number: number)
                ),
                pipeline: pipeline
            )
            if let adopted = try files.adopt(from: earlier, startCommit: state.plan.startCommit) {
                run = adopted
                break
            }
        }
        var head = run.head ?? state.plan.startCommit
        var last: AgentOutcome?
        try files.save(run)
        while true {
            try Task.checkCancellation()
            switch run.next() {
            case .ended(.completed):
                // The checkout holds what the steps that succeeded left, for the snapshot that follows.
                try await environment.context.checkout(head, into: state.worktree, mission: state.plan.mission)
                state.session = last
                state.message =
                    "flotilla: \(state.key.group) attempt \(state.key.number) (pipeline \(pipeline.name))\n\n"
                    + run.records.filter { $0.status == .success }.compactMap { record in
                        record.summary.map { "\(record.step): \(String($0.prefix(400)))" }
                    }.joined(separator: "\n")
                return .next
            case .ended(.failed(let reason)):
                state.session = last
                return .end(
                    .failed(
                        outcome: .agentFailed,
                        reason: "pipeline \(pipeline.name): \(reason)",
                        feedback: Feedback.agentFailed("the pipeline \(pipeline.name) ended at \(reason)")
                    )
                )
            case .ended(.waitingForHuman(let step, let reason)):
                state.session = last
                // Once a person releases the group, its next attempt goes on from this step.
                PipelineFiles.markInterrupted(files.directory)
                return .end(
                    .failed(
                        outcome: .disputed,
                        reason: "pipeline \(pipeline.name): step \(step) asks for a person (on_fail = \"human\"): "
                            + reason,
                        feedback: Feedback.agentFailed("step \(step) of pipeline \(pipeline.name) failed: \(reason)")
                    )
                )
            case .gate(let number):
                let passed = try await gate(number: number, head: head, state: &state, files: files, environment)
                run.gateFinished(passed: passed)
                try files.save(run)
            case .run(let step, let number, let loop, let attempt, let wait, let notes):
                if let wait { try await environment.context.clock.sleep(for: wait) }
                let tried = try await tryStep(
                    step,
                    at: (number, loop, attempt),
                    notes: notes,
                    run: run,
                    head: head,
                    state: &state,
                    files: files,
                    environment
                )
                if let outcome = tried.session { last = outcome }
                if case .end(let verdict) = tried.stop {
                    state.session = last
                    return .end(verdict)
                }
                // Only a step that succeeded moves the attempt on; a failed try's work stays in its patch.diff.
                if tried.result.status == .success, let snapshot = tried.result.record.snapshot { head = snapshot }
                // On disk before it is told: a crash once it is recorded finds it finished, and never runs it again.
                run.finish(tried.result)
                try files.save(run)
                try files.write(result: tried.result.record, to: tried.folder)
                environment.update(.stepFinished(tried.result.record))
            }
        }
    }
}

extension PipelineStepsStep {
    /// What one try of a step came to: its result, the session, and, for a rate limit, the end of the attempt.
    struct Tried {
        var result: PipelineRun.StepResult
        var session: AgentOutcome?
        var folder: String
        var stop: StepOutcome?
    }

    /// Runs one try of an agent step and reads what it left.
    func tryStep(
        _ step: PipelineStep,
        at place: (number: Int, loop: Int, attempt: Int),
        notes: String?,
        run: PipelineRun,
        head: String,
        state: inout AttemptState,
        files: PipelineFiles,
        _ environment: AttemptEnvironment
    ) async throws -> Tried {
        let context = environment.context
        let mission = environment.mission
        let plan = state.plan
        let folder = files.folder(number: place.number, step: step.id, loop: place.loop)
        let output = (folder as NSString).appendingPathComponent("out")
        let input = (folder as NSString).appendingPathComponent("in")
        // A retry starts from what the step's last try left behind it: its own folder anew, the checkout as before.
        try? FileManager.default.removeItem(atPath: output)
        try? FileManager.default.removeItem(atPath: input)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        // Every try but the attempt's first starts from what the steps that succeeded left, and nothing else.
        if !run.records.isEmpty {
            try await context.checkout(head, into: state.worktree, mission: plan.mission)
        }
        let inputs = try files.gather(step.inputs, from: run, into: input)
        let agent = try context.agent(for: step)
        let model = step.model ?? (step.backend == nil ? mission.model : nil)
        environment.update(
            .stepStarted(
                MissionEvent.StepStarted(
                    pipeline: pipeline.name,
                    step: step.id,
                    number: place.number,
                    loop: place.loop,
                    attempt: place.attempt,
                    backend: agent.name,
                    model: model,
                    reason: place.attempt > 1 ? run.records.last?.reason : place.loop > 0 ? notes : nil
                )
            )
        )
        var template: String?
        if let path = step.prompt {
            // The trusted copy: the start commit's (prompt files are protected, so no attempt changes them).
            template = try await environment.git.fileContents(at: plan.startCommit, path: path)
            if template == nil {
                let record = PipelineStepRecord(
                    step: step.id,
                    number: place.number,
                    loop: place.loop,
                    attempt: place.attempt,
                    status: .failed,
                    reason: "prompt_missing:\(path)",
                    backend: agent.name,
                    model: model,
                    startedAt: context.now(),
                    finishedAt: context.now()
                )
                return Tried(
                    result: PipelineRun.StepResult(
                        status: .failed,
                        reason: record.reason,
                        retryable: false,
                        record: record
                    ),
                    session: nil,
                    folder: folder,
                    stop: nil
                )
            }
        }
        let prompt = PipelineStepPrompt(
            pipeline: pipeline,
            step: step,
            place: place,
            goal: mission.goal,
            attemptPrompt: state.prompt,
            group: mission.checklist.group(plan.key.group),
            records: run.records,
            inputs: inputs,
            notes: notes,
            outputDirectory: output,
            template: template
        ).text
        let promptFile = (folder as NSString).appendingPathComponent("prompt.md")
        try prompt.write(toFile: promptFile, atomically: true, encoding: .utf8)
        let started = context.now()
        var confinement = context.sandbox.session(
            checkout: state.worktree,
            promptFile: promptFile,
            objects: context.git.sharedObjectsDirectory,
            layout: environment.layout
        )
        confinement.writable.append(output)
        confinement.readable.append(input)
        let watch = SettingsWatch.capture(context.sandbox)
        let outcome = try await agent.run(
            AgentRequest(
                mission: plan.mission,
                attempt: plan.key,
                worktree: state.worktree,
                prompt: prompt,
                promptFile: promptFile,
                model: model,
                timeout: step.timeoutSeconds.map { .seconds(bounded: $0) } ?? mission.limits.attemptTimeout,
                environment: [
                    "FLOTILLA_PIPELINE": pipeline.name,
                    "FLOTILLA_STEP": step.id,
                    "FLOTILLA_STEP_LOOP": String(place.loop),
                    "FLOTILLA_STEP_TRY": String(place.attempt),
                    "FLOTILLA_STEP_IN": input,
                    "FLOTILLA_STEP_OUT": output,
                ],
                transcriptPath: (folder as NSString).appendingPathComponent("transcript.log"),
                budgetUSD: plan.budgetUSD.map { max(0, $0 - state.costUSD) },
                confinement: confinement,
                readOnlyFiles: SessionStep.readOnlyFiles(in: state.worktree, of: state, mission: mission)
            )
        )
        if let restored = watch?.restore(), !restored.isEmpty { environment.update(.toolSettingsRestored(restored)) }
        state.costUSD += outcome.usage.costUSD
        try Task.checkCancellation()

        var record = PipelineStepRecord(
            step: step.id,
            number: place.number,
            loop: place.loop,
            attempt: place.attempt,
            status: .success,
            summary: outcome.finalMessage.map { String($0.prefix(2000)) },
            backend: outcome.backend ?? agent.name,
            model: model,
            costUSD: outcome.usage.costUSD,
            inputTokens: outcome.usage.inputTokens,
            outputTokens: outcome.usage.outputTokens,
            durationMS: Int(outcome.duration.seconds * 1000),
            startedAt: started,
            finishedAt: max(started, context.now())
        )
        if case .rateLimited(let message)? = outcome.failure {
            record.status = .failed
            record.reason = "rate_limited"
            try files.write(result: record, to: folder)
            let takeover = outcome.failover.map { "; \($0) takes over" } ?? ""
            return Tried(
                result: PipelineRun.StepResult(status: .failed, reason: "rate_limited", record: record),
                session: outcome,
                folder: folder,
                stop: .end(
                    .rateLimited(
                        reason: "step \(step.id) of pipeline \(pipeline.name) hit a rate limit: \(message)\(takeover)",
                        feedback: Feedback.agentFailed(
                            "it hit a rate limit; this attempt does not count against the group"
                        ),
                        message: message,
                        holdDispatch: outcome.failover == nil
                    )
                )
            )
        }
        // What the step changed, taken back where it was not to change it, and snapshotted.
        let changes = try await StepChanges.read(
            step,
            at: place,
            head: head,
            worktree: state.worktree,
            plan: plan,
            agent: agent,
            environment
        )
        record.changeStatus = changes.snapshot != nil || changes.discarded ? .changed : .noChanges
        record.snapshot = changes.snapshot
        if let snapshot = changes.snapshot {
            try await environment.git.diff(from: head, to: snapshot).write(
                toFile: (folder as NSString).appendingPathComponent("patch.diff"),
                atomically: true,
                encoding: .utf8
            )
        } else {
            try "".write(
                toFile: (folder as NSString).appendingPathComponent("patch.diff"),
                atomically: true,
                encoding: .utf8
            )
        }
        if changes.discarded { record.status = .discarded }
        record.outputs = files.outputs(in: output)

        var result = PipelineRun.StepResult(status: record.status, record: record)
        if outcome.timedOut {
            result.status = .timeout
            result.reason = "timeout"
        } else if let failure = outcome.failure {
            result.status = .failed
            result.reason = "agent_failed: \(failure)"
        } else if let missing = step.outputs.first(where: { !record.outputs.contains($0) }) {
            result.status = .failed
            result.reason = "missing_output:\(missing)"
        } else if let verdict = step.verdict {
            switch StepVerdict.read((output as NSString).appendingPathComponent(verdict)) {
            case .approve:
                break
            case .changes(let notes):
                result.status = .failed
                result.reason = "changes requested" + (notes.isEmpty ? "" : ": \(String(notes.prefix(300)))")
                result.notes = notes
                result.retryable = false
            case .unreadable(let why):
                result.status = .failed
                result.reason = "verdict_unreadable:\(verdict): \(why)"
            }
        }
        // A read-only step that changed files still did its work: it counts, recorded as discarded.
        if result.status == .discarded { result.status = .success }
        result.record.status = result.status == .success ? record.status : result.status
        result.record.reason = result.reason
        return Tried(result: result, session: outcome, folder: folder, stop: nil)
    }

    /// The gate step: the mission's gate on what the steps left so far, its output for later steps.
    func gate(
        number: Int,
        head: String,
        state: inout AttemptState,
        files: PipelineFiles,
        _ environment: AttemptEnvironment
    ) async throws -> Bool {
        let context = environment.context
        let plan = state.plan
        let folder = files.folder(number: number, step: Pipeline.gateStep, loop: 0)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let checkout = environment.layout.gateWorktree(plan.mission, plan.slot)
        try await context.checkout(head, into: checkout, mission: plan.mission, judging: true)
        let verification = try await context.gate.verify(
            kind: .gate,
            attempt: plan.key,
            commit: head,
            in: checkout,
            groups: [plan.key.group],
            logPath: (folder as NSString).appendingPathComponent("log.txt")
        )
        try verification.outputTail.write(
            toFile: (folder as NSString).appendingPathComponent("output.txt"),
            atomically: true,
            encoding: .utf8
        )
        return verification.passed
    }
}
