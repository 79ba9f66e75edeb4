import FlotillaCore
import Foundation

/// Scores a verified attempt before it lands (`--review advise|block`): alignment with the group's criteria, the
/// approach, and whether tests were made meaningful rather than weakened.
///
/// A model may only hold work back, never pass what the gate failed: it reads attempts whose gate passed. A reviewer
/// that errors or does not answer within its timeout blocks nothing.
package struct Reviewer: Sendable {
    let model: any LanguageModel
    let mode: ReviewMode
    /// In `block` mode, a score under this (of 10) sends the attempt back.
    let threshold: Int
    let timeout: Duration
    /// The clock the timeout runs on.
    var clock: any Clock<Duration> = ContinuousClock()

    package init(model: any LanguageModel, mode: ReviewMode, threshold: Int, timeout: Duration) {
        self.model = model
        self.mode = mode
        self.threshold = threshold
        self.timeout = timeout
    }

    /// The verdict and the call that made it; a nil score (the call says why) when the model gave none in time.
    func review(
        _ attempt: AttemptKey,
        group: ChecklistGroup,
        gateOutput: String,
        changes: String
    ) async -> (verdict: ReviewVerdict, call: ModelCall) {
        let question = """
            Group: \(group.title) (\(group.id))
            Criteria:
            \(group.criteria.map { "- \($0)" }.joined(separator: "\n"))

            The agent's changes (they passed the gate):
            \(changes.isEmpty ? "(none)" : changes)

            The end of the gate's output:
            \(gateOutput)
            """
        let request = StructuredRequest(
            system: Self.system,
            messages: [ModelMessage(.user, question)],
            schemaName: "landing_review",
            schema: Self.schema,
            maxTokens: 1200
        )
        let (answer, call) = await ModelConsultation.ask(
            model,
            request,
            role: .reviewer,
            attempt: attempt,
            timeout: timeout,
            clock: clock
        )
        guard let value = answer?.value else {
            let problem = call.error ?? "no answer"
            return (
                ReviewVerdict(score: nil, threshold: threshold, blocks: false, summary: problem, concerns: []), call
            )
        }
        let score = min(10, max(0, value["score"]?.intValue ?? Int(value["score"]?.numberValue ?? 0)))
        let verdict = ReviewVerdict(
            score: score,
            threshold: threshold,
            blocks: mode == .block && score < threshold,
            summary: value["summary"]?.stringValue ?? "",
            concerns: Critic.strings(value["concerns"])
        )
        return (verdict, call)
    }

    static let system = """
        You review a coding agent's change to one group of an acceptance checklist before it lands. The change \
        already passed the automated gate. Score it from 0 to 10: does it do what the criteria ask (not merely make \
        the checks pass), is the approach sound, and are tests meaningful rather than weakened (deleted or loosened \
        assertions, skipped tests, special cases for the test inputs score low). Answer with JSON only.
        """

    static let schema: JSONValue = .object([
        "type": "object", "additionalProperties": false,
        "required": .array(["score", "summary", "concerns"]),
        "properties": .object([
            "score": .object(["type": "integer", "minimum": 0, "maximum": 10]),
            "summary": .object(["type": "string"]),
            "concerns": .object(["type": "array", "items": .object(["type": "string"])]),
        ]),
    ])

    /// The review as the next prompt shows it, when it sent the attempt back.
    static func feedback(_ verdict: ReviewVerdict) -> String {
        var text =
            "Your change passed the gate, but a reviewer scored it \(verdict.score ?? 0)/10 (it needs "
            + "\(verdict.threshold)) and sent it back before it landed:\n- Summary: \(verdict.summary)\n"
        if !verdict.concerns.isEmpty {
            text += "- Concerns:\n" + verdict.concerns.map { "  - \($0)" }.joined(separator: "\n") + "\n"
        }
        return text + "Address them; the gate must still pass."
    }
}
