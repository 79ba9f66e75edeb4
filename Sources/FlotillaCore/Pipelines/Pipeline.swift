/// How one attempt of a group runs when one agent session is not enough: ordered steps (plan, implement, review…),
/// each its own confined session with fixed files on disk, then the gate, which alone decides.
///
/// Defined in `flotilla.toml` or `config.toml` as `[pipeline.NAME]` (its `steps`) and `[pipeline.NAME.STEP]` (each
/// step's settings), checked when the file is read (``Pipeline/parse(_:file:)``), and frozen into the mission when
/// it is created, so a `resume` runs what the mission started with. A group chooses one with its `Pipeline: NAME`
/// line, a mission with `--pipeline NAME`. Groups, dependencies, the merge queue, best of N and budgets are
/// unchanged: one run of a pipeline is one attempt; a step's retries and loops are not attempts.
package struct Pipeline: Sendable, Equatable, Codable {
    package var name: String
    package var steps: [PipelineStep]

    package init(name: String, steps: [PipelineStep]) {
        self.name = name
        self.steps = steps
    }

    /// The step that runs the mission's gate in the middle of the pipeline, if one is listed; otherwise the gate
    /// runs after the last step.
    package static let gateStep = "gate"

    package func step(_ id: String) -> PipelineStep? { steps.first { $0.id == id } }

    package func index(of id: String) -> Int? { steps.firstIndex { $0.id == id } }

    /// The steps that run an agent (all but `gate`).
    package var agentSteps: [PipelineStep] { steps.filter { !$0.isGate } }
}

/// One step of a ``Pipeline``.
package struct PipelineStep: Sendable, Equatable, Codable {
    /// What a step may leave in the checkout: a read-only step's edits are discarded.
    package enum Mode: String, Sendable, Codable, CaseIterable {
        case readOnly = "read-only"
        case write
    }

    package var id: String
    /// The backend that runs it; nil: the mission's.
    package var backend: BackendName?
    /// The model handed to that backend; nil: the mission's (when the backend is the mission's).
    package var model: String?
    /// For `backend = "command"`: the command line the step runs (the prompt on stdin); nil: the mission's.
    package var command: String?
    package var mode: Mode
    /// The step's prompt template, a file of the repository (protected like the checklist); nil: the attempt's
    /// own prompt with the step's inputs added.
    package var prompt: String?
    /// Files of earlier steps the step reads (`FLOTILLA_STEP_IN`, and inlined in its prompt).
    package var inputs: [PipelineInput]
    /// Files the step must leave in `FLOTILLA_STEP_OUT`, or it fails `missing_output:FILE`.
    package var outputs: [String]
    /// Seconds one try may run; nil: the mission's attempt timeout.
    package var timeoutSeconds: Double?
    /// Tries after the first when a try fails (0-10), each after ``backoff(beforeTry:)``.
    package var retries: Int
    /// A file in `FLOTILLA_STEP_OUT` holding `{"verdict": "approve"|"changes", "notes": "…"}`: `changes` fails the
    /// step, and its notes are the feedback of the step `on_fail` goes back to.
    package var verdict: String?
    package var onFail: PipelineFailurePolicy
    /// How many times `on_fail = "goto:STEP"` may go back from this step (1-5); one more failure ends the attempt
    /// `step_loop_limit:STEP`.
    package var maxLoops: Int
    /// Where a writing step may change files; empty: anywhere the attempt may.
    ///
    /// Patterns as protected paths read them; changes elsewhere are taken back.
    package var paths: [String]

    package init(
        id: String,
        backend: BackendName? = nil,
        model: String? = nil,
        command: String? = nil,
        mode: Mode = .write,
        prompt: String? = nil,
        inputs: [PipelineInput] = [],
        outputs: [String] = [],
        timeoutSeconds: Double? = nil,
        retries: Int = 0,
        verdict: String? = nil,
        onFail: PipelineFailurePolicy = .stop,
        maxLoops: Int = PipelineStep.defaultMaxLoops,
        paths: [String] = []
    ) {
        self.id = id
        self.backend = backend
        self.model = model
        self.command = command
        self.mode = mode
        self.prompt = prompt
        self.inputs = inputs
        self.outputs = outputs
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        self.verdict = verdict
        self.onFail = onFail
        self.maxLoops = maxLoops
        self.paths = paths
    }

    package static let defaultMaxLoops = 2

    /// The gate's place in the pipeline (the `gate` step): no agent, no settings.
    package static let gate = PipelineStep(id: Pipeline.gateStep)

    package var isGate: Bool { id == Pipeline.gateStep }

    /// The files every finished agent step leaves, beside its `outputs`.
    package static let standardFiles = ["patch.diff", "result.json"]

    /// What a later step may read of this one: its outputs, its verdict, and its standard files (the gate's
    /// output for `gate`).
    package var readableFiles: [String] {
        isGate ? ["output.txt"] : outputs + (verdict.map { [$0] } ?? []) + Self.standardFiles
    }

    /// The wait before try `number` (2, 3…): 2 s, doubling, at most 30 s.
    package static func backoff(beforeTry number: Int) -> Duration {
        let exponent = min(max(number - 2, 0), 4)
        return .seconds(min(2 * (1 << exponent), 30))
    }
}

/// A file of an earlier step, written `STEP/FILE`.
package struct PipelineInput: Sendable, Equatable, Codable, CustomStringConvertible {
    package var step: String
    package var file: String

    package init(step: String, file: String) {
        self.step = step
        self.file = file
    }

    /// `STEP/FILE`, or nil when either part is missing.
    package init?(_ text: String) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let step = String(text[..<slash])
        let file = String(text[text.index(after: slash)...])
        guard !step.isEmpty, !file.isEmpty else { return nil }
        self.init(step: step, file: file)
    }

    package var description: String { "\(step)/\(file)" }

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let input = PipelineInput(text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "expected STEP/FILE: \(text)")
            )
        }
        self = input
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// What a step's failure, after its retries, does to the attempt.
package enum PipelineFailurePolicy: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The attempt fails `step_failed:STEP`; the gate does not run.
    case stop
    /// The next step runs anyway (written `continue`).
    case proceed
    /// An earlier step runs again with this step's notes, up to the step's `max_loops`.
    case goto(String)
    /// The group waits for a person; `approve` runs the attempt again from its first step without output.
    case human

    /// `stop`, `continue`, `goto:STEP` or `human`; nil for anything else.
    package init?(_ text: String) {
        switch text {
        case "stop": self = .stop
        case "continue": self = .proceed
        case "human": self = .human
        default:
            guard text.hasPrefix("goto:"), text.count > "goto:".count else { return nil }
            self = .goto(String(text.dropFirst("goto:".count)))
        }
    }

    package var description: String {
        switch self {
        case .stop: "stop"
        case .proceed: "continue"
        case .goto(let step): "goto:\(step)"
        case .human: "human"
        }
    }

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let policy = PipelineFailurePolicy(text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "unknown on_fail: \(text)")
            )
        }
        self = policy
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
