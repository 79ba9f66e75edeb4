import Foundation

/// One run of a ``Pipeline`` within an attempt, as a state machine: which step runs next, with which loop and
/// try, and what the attempt's outcome is once a step's failure policy or the last step decides it.
///
/// It does no I/O: the attempt's runner asks ``next()``, runs what it says (an agent session, the gate), and
/// reports back with ``finish(_:)`` or ``gateFinished(passed:)``. Encoded, it is the attempt's `pipeline.json`,
/// from which an interrupted attempt goes on: finished steps are never run again.
package struct PipelineRun: Sendable, Equatable, Codable {
    package let pipeline: Pipeline
    /// The commit the attempt started from: a run goes on in a later attempt only from the same one.
    package var startCommit: String?
    /// The index of the step that runs next.
    package private(set) var position = 0
    /// The try of the current step that runs next (1 for its first).
    package private(set) var attempt = 1
    /// How many times each step was sent back to by `goto` from each step (`review` → count), for `max_loops`.
    package private(set) var returns: [String: Int] = [:]
    /// How many times each step started afresh (not counting retries): its next run's loop number.
    package private(set) var runs: [String: Int] = [:]
    /// What the step sent back to is told: the notes of the step that sent it back, by the step that runs again.
    package private(set) var notes: [String: String] = [:]
    /// Every try that ended, in order.
    package private(set) var records: [PipelineStepRecord] = []
    /// The gate's verdict once a `gate` step ran: whether it passed, and whether a step wrote after it.
    package private(set) var gatePassed: Bool?
    package private(set) var wroteAfterGate = false
    /// How it ended, once it has.
    package private(set) var outcome: Outcome?

    package init(pipeline: Pipeline, startCommit: String? = nil) {
        self.pipeline = pipeline
        self.startCommit = startCommit
    }

    /// Whether steps are left to run and nothing has ended it: what an interrupted attempt leaves.
    package var isUnfinished: Bool { outcome == nil && position < pipeline.steps.count }

    /// The checkout the next step starts from: the snapshot of the last writing step that succeeded, if any.
    package var head: String? { records.last { $0.status == .success && $0.snapshot != nil }?.snapshot }

    /// How a run ends.
    package enum Outcome: Sendable, Equatable, Codable {
        /// Every step ran (or failed with `continue`): the attempt's gate decides.
        case completed
        /// A step's failure ended the attempt (`step_failed:STEP`, `step_loop_limit:STEP`, or the gate step).
        case failed(reason: String)
        /// A step failed with `on_fail = "human"`: the group waits for a person.
        case waitingForHuman(step: String, reason: String)
    }

    /// What the runner does next.
    package enum Next: Sendable, Equatable {
        /// Run `step` (its `loop`-th return, its `try`-th try), after waiting `wait` when it is a retry.
        case run(step: PipelineStep, number: Int, loop: Int, try: Int, wait: Duration?, notes: String?)
        /// Run the mission's gate on what the steps left so far.
        case gate(number: Int)
        case ended(Outcome)
    }

    package func next() -> Next {
        if let outcome { return .ended(outcome) }
        guard position < pipeline.steps.count else { return .ended(.completed) }
        let step = pipeline.steps[position]
        if step.isGate { return .gate(number: position + 1) }
        return .run(
            step: step,
            number: position + 1,
            loop: runs[step.id, default: 0],
            try: attempt,
            wait: attempt > 1 ? PipelineStep.backoff(beforeTry: attempt) : nil,
            notes: notes[step.id]
        )
    }

    /// What one try of an agent step came to.
    package struct StepResult: Sendable, Equatable {
        package var status: PipelineStepRecord.Status
        /// Why it failed (`missing_output:plan.md`, `timeout`, the verdict's `changes`…); nil when it succeeded.
        package var reason: String?
        /// The verdict's notes, for the step `goto` sends this one's failure to.
        package var notes: String?
        /// Whether another try could go otherwise (a timeout, a crash, a missing output); a verdict of `changes` is
        /// not retried: it is the step's answer.
        package var retryable: Bool
        package var record: PipelineStepRecord

        package init(
            status: PipelineStepRecord.Status,
            reason: String? = nil,
            notes: String? = nil,
            retryable: Bool = true,
            record: PipelineStepRecord
        ) {
            self.status = status
            self.reason = reason
            self.notes = notes
            self.retryable = retryable
            self.record = record
        }
    }

    /// Records the end of the current step's try and moves on: to the next step, to a retry, or by its failure
    /// policy.
    package mutating func finish(_ result: StepResult) {
        guard outcome == nil, position < pipeline.steps.count else { return }
        let step = pipeline.steps[position]
        records.append(result.record)
        if gatePassed != nil && result.record.changeStatus == .changed && step.mode == .write {
            wroteAfterGate = true
        }
        guard result.status != .success else {
            advance(from: step)
            return
        }
        if result.retryable && attempt <= step.retries {
            attempt += 1
            return
        }
        let reason = result.reason ?? result.status.rawValue
        switch step.onFail {
        case .stop:
            outcome = .failed(reason: "step_failed:\(step.id): \(reason)")
        case .proceed:
            advance(from: step)
        case .human:
            outcome = .waitingForHuman(step: step.id, reason: reason)
        case .goto(let target):
            let taken = returns[step.id, default: 0]
            guard taken < step.maxLoops, let index = pipeline.index(of: target) else {
                outcome = .failed(
                    reason: "step_loop_limit:\(step.id): sent back to \(target) \(taken) time\(taken == 1 ? "" : "s") "
                        + "and still failed: \(reason)"
                )
                return
            }
            returns[step.id] = taken + 1
            notes[target] = result.notes ?? reason
            // The steps from the target on finished a run each already; this one's failed run counts too.
            runs[step.id, default: 0] += 1
            position = index
            attempt = 1
        }
    }

    /// Records the gate step's verdict: a failing gate ends the attempt as the gate always does.
    package mutating func gateFinished(passed: Bool) {
        guard outcome == nil, position < pipeline.steps.count, pipeline.steps[position].isGate else { return }
        gatePassed = passed
        wroteAfterGate = false
        if passed {
            position += 1
            attempt = 1
        } else {
            outcome = .failed(reason: "the gate step failed")
        }
    }

    /// A person released the group a step's `on_fail = "human"` stopped: the run goes on from that step, first try.
    package mutating func released() {
        guard case .waitingForHuman = outcome else { return }
        outcome = nil
        attempt = 1
    }

    /// Whether the attempt's own gate, after the last step, still has to judge: always, unless a `gate` step
    /// passed and nothing wrote after it.
    package var needsFinalGate: Bool { gatePassed != true || wroteAfterGate }

    private mutating func advance(from step: PipelineStep) {
        runs[step.id, default: 0] += 1
        position += 1
        attempt = 1
    }

    /// The folder of a step's try under the attempt's `steps/`: `02_implement`, `02_implement.1` on its first
    /// return.
    package static func folder(number: Int, step: String, loop: Int) -> String {
        let index = number < 10 ? "0\(number)" : "\(number)"
        return "\(index)_\(step)" + (loop > 0 ? ".\(loop)" : "")
    }
}

/// One try of one step, as `result.json` and the ledger's `attempt_steps` hold it.
package struct PipelineStepRecord: Sendable, Equatable, Codable {
    package enum Status: String, Sendable, Equatable, Codable {
        case success, failed, timeout
        /// A read-only step that changed files: its changes were thrown away (the step itself still counts).
        case discarded
    }

    package enum ChangeStatus: String, Sendable, Equatable, Codable {
        case changed
        case noChanges = "no_changes"
    }

    package var step: String
    package var number: Int
    package var loop: Int
    package var attempt: Int
    package var status: Status
    package var reason: String?
    /// The agent's last message, shortened.
    package var summary: String?
    package var changeStatus: ChangeStatus
    package var backend: String
    package var model: String?
    package var costUSD: Double
    package var inputTokens: Int
    package var outputTokens: Int
    package var durationMS: Int
    package var startedAt: Date
    package var finishedAt: Date
    /// The files it left in its `out/`.
    package var outputs: [String]
    /// The commit Flotilla made of the checkout after it, for a writing step; an interrupted attempt starts again
    /// from the last one.
    package var snapshot: String?

    package init(
        step: String,
        number: Int,
        loop: Int,
        attempt: Int,
        status: Status,
        reason: String? = nil,
        summary: String? = nil,
        changeStatus: ChangeStatus = .noChanges,
        backend: String,
        model: String? = nil,
        costUSD: Double = 0,
        inputTokens: Int = 0,
        outputTokens: Int = 0,
        durationMS: Int = 0,
        startedAt: Date,
        finishedAt: Date,
        outputs: [String] = [],
        snapshot: String? = nil
    ) {
        self.step = step
        self.number = number
        self.loop = loop
        self.attempt = attempt
        self.status = status
        self.reason = reason
        self.summary = summary
        self.changeStatus = changeStatus
        self.backend = backend
        self.model = model
        self.costUSD = costUSD
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.durationMS = durationMS
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outputs = outputs
        self.snapshot = snapshot
    }

    enum CodingKeys: String, CodingKey {
        case step, number, loop
        case attempt = "try"
        case status, reason, summary
        case changeStatus = "change_status"
        case backend, model
        case costUSD = "cost_usd"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case durationMS = "duration_ms"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case outputs, snapshot
    }
}

/// A row of the ledger's `attempt_steps`: one try of one step, of one attempt.
package struct AttemptStepRecord: Sendable, Equatable {
    package var key: AttemptKey
    /// Its place among the attempt's tries (1, 2…).
    package var position: Int
    package var record: PipelineStepRecord

    package init(key: AttemptKey, position: Int, record: PipelineStepRecord) {
        self.key = key
        self.position = position
        self.record = record
    }
}
