extension MissionEvent {
    /// A pipeline step's try starts: its first (`step.started`), a retry (`step.retry`), or a return a later step's
    /// `goto` sent it (`step.loop`).
    package struct StepStarted: EventPayload {
        package static let kinds: [EventKind] = [.stepStarted, .stepRetry, .stepLoop]
        package var pipeline: String
        package var step: String
        package var number: Int
        package var loop: Int
        package var attempt: Int
        package var backend: String
        package var model: String?
        /// Why it runs again, for a retry or a loop.
        package var reason: String?

        package init(
            pipeline: String,
            step: String,
            number: Int,
            loop: Int,
            attempt: Int,
            backend: String,
            model: String? = nil,
            reason: String? = nil
        ) {
            self.pipeline = pipeline
            self.step = step
            self.number = number
            self.loop = loop
            self.attempt = attempt
            self.backend = backend
            self.model = model
            self.reason = reason
        }

        /// The event kind of this try.
        package var kind: EventKind { attempt > 1 ? .stepRetry : loop > 0 ? .stepLoop : .stepStarted }

        enum CodingKeys: String, CodingKey {
            case pipeline, step, number, loop
            case attempt = "try"
            case backend, model, reason
        }
    }

    /// Changes a step made that Flotilla took back: all of a read-only step's (`step.read_only_discarded`), or a
    /// writing step's outside its `paths` (`step.scope_taken_back`).
    package struct StepChangesTakenBack: EventPayload {
        package static let kinds: [EventKind] = [.stepReadOnlyDiscarded, .stepScopeTakenBack]
        package var step: String
        package var number: Int
        package var loop: Int
        package var paths: [String]
        /// True for a read-only step (all its changes), false for a writing step's out-of-scope ones.
        package var readOnly: Bool

        package init(step: String, number: Int, loop: Int, paths: [String], readOnly: Bool) {
            self.step = step
            self.number = number
            self.loop = loop
            self.paths = paths
            self.readOnly = readOnly
        }
    }
}

/// A step's try that ended is recorded as it is in `result.json` (`step.finished`).
extension PipelineStepRecord: EventPayload {
    package static let kinds: [EventKind] = [.stepFinished]
}
