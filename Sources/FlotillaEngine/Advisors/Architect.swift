import FlotillaCore
import Foundation

/// `--architect`: a read-only first pass, by the critic's model, that plans an attempt.
///
/// The group's backend then implements the plan. Advice only: a plan that does not come (an error, no answer in
/// time) leaves the attempt as it would have been.
package struct Architect: Sendable {
    let model: any LanguageModel
    let timeout: Duration
    /// The clock the timeout runs on.
    var clock: any Clock<Duration> = ContinuousClock()

    package init(model: any LanguageModel, timeout: Duration) {
        self.model = model
        self.timeout = timeout
    }

    /// The plan as the prompt shows it, and the call that made it; a nil plan (the call says why) when none came.
    func plan(_ attempt: AttemptKey, prompt: String) async -> (plan: String?, call: ModelCall) {
        let request = StructuredRequest(
            system: Self.system,
            messages: [ModelMessage(.user, prompt)],
            schemaName: "attempt_plan",
            schema: Self.schema,
            maxTokens: 1200
        )
        let (answer, call) = await ModelConsultation.ask(
            model,
            request,
            role: .architect,
            attempt: attempt,
            timeout: timeout,
            clock: clock
        )
        let steps = Critic.strings(answer?.value["steps"])
        guard !steps.isEmpty else { return (nil, call) }
        let files = Critic.strings(answer?.value["files"])
        var plan = "A read-only architect pass planned this attempt (advice; the gate alone decides):\n"
        plan += steps.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n")
        if !files.isEmpty { plan += "\nFiles to change: " + files.joined(separator: ", ") }
        return (plan, call)
    }

    static let system = """
        You are the architect of one attempt at one group of an acceptance checklist; another agent will implement \
        your plan. You cannot run or change anything. From the task below, write the few concrete steps that \
        satisfy the group's criteria and the files to change. Answer with JSON only.
        """

    static let schema: JSONValue = .object([
        "type": "object", "additionalProperties": false,
        "required": .array(["steps", "files"]),
        "properties": .object([
            "steps": .object(["type": "array", "items": .object(["type": "string"])]),
            "files": .object(["type": "array", "items": .object(["type": "string"])]),
        ]),
    ])
}
