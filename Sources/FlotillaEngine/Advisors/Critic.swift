import FlotillaCore
import Foundation

/// What a critic made of a failed attempt.
///
/// Advisory: it explains a failure, it never decides one.
package struct CriticReview: Sendable, Equatable {
    package var summary: String
    package var rootCause: String
    package var nextActions: [String]
    package var failingCriteria: [String]
}

/// Asks a language model why an attempt failed its gate, for the next attempt's prompt.
package struct Critic: Sendable {
    let model: any LanguageModel
    /// The clock its calls are timed on.
    var clock: any Clock<Duration> = ContinuousClock()

    package init(model: any LanguageModel) {
        self.model = model
    }

    package var label: String { model.label }

    /// The review and the call that made it; nil review (the call says why) when the model gave none.
    func review(
        _ attempt: AttemptKey,
        group: ChecklistGroup,
        gateOutput: String,
        changes: String
    ) async -> (review: CriticReview?, call: ModelCall) {
        let question = """
            Group: \(group.title) (\(group.id))
            Criteria:
            \(group.criteria.map { "- \($0)" }.joined(separator: "\n"))

            The agent's changes:
            \(changes.isEmpty ? "(none)" : changes)

            The end of the gate's output (the gate failed):
            \(gateOutput)
            """
        let request = StructuredRequest(
            system: Self.system,
            messages: [ModelMessage(.user, question)],
            schemaName: "attempt_review",
            schema: Self.schema,
            maxTokens: 1500
        )
        let (answer, call) = await ModelConsultation.ask(model, request, role: .critic, attempt: attempt, clock: clock)
        guard let value = answer?.value else { return (nil, call) }
        let review = CriticReview(
            summary: value["summary"]?.stringValue ?? "",
            rootCause: value["root_cause"]?.stringValue ?? "",
            nextActions: Self.strings(value["next_actions"]),
            failingCriteria: Self.strings(value["failing_criteria"])
        )
        return (review, call)
    }

    static func strings(_ value: JSONValue?) -> [String] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap(\.stringValue)
    }

    static let system = """
        You review a coding agent's failed attempt at one group of an acceptance checklist. From the gate's output \
        and the agent's changes, say briefly what failed, its root cause, the next concrete actions, and which \
        criteria still fail. Answer with JSON only.
        """

    static let schema: JSONValue = .object([
        "type": "object", "additionalProperties": false,
        "required": .array(["summary", "root_cause", "next_actions", "failing_criteria"]),
        "properties": .object([
            "summary": .object(["type": "string"]),
            "root_cause": .object(["type": "string"]),
            "next_actions": .object(["type": "array", "items": .object(["type": "string"])]),
            "failing_criteria": .object(["type": "array", "items": .object(["type": "string"])]),
        ]),
    ])

    /// The review as the next prompt shows it.
    static func feedback(_ review: CriticReview) -> String {
        var text = "A critic read the gate's output (advice only; the gate alone decides):\n"
        text += "- Summary: \(review.summary)\n- Root cause: \(review.rootCause)\n"
        if !review.nextActions.isEmpty {
            text += "- Next actions:\n" + review.nextActions.map { "  - \($0)" }.joined(separator: "\n") + "\n"
        }
        if !review.failingCriteria.isEmpty {
            text += "- Criteria still failing: " + review.failingCriteria.joined(separator: "; ") + "\n"
        }
        return text
    }
}
