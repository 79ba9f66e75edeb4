import FlotillaCore
import Foundation

/// `--objective-check`: once every group has landed, a model reads the goal, the checklist and the mission's whole
/// diff and says whether the goal is met; when it is not, it proposes groups to add.
///
/// Advice that can only add work: proposed groups get no check command of the model's (the mission's own verify
/// judges them, like every group), and the mission's gate still decides what lands. A check that errors or does
/// not answer in time leaves the mission to its final verify.
package struct ObjectiveCheck: Sendable {
    let model: any LanguageModel
    let timeout: Duration
    /// The clock the timeout runs on.
    var clock: any Clock<Duration> = ContinuousClock()

    package init(model: any LanguageModel, timeout: Duration) {
        self.model = model
        self.timeout = timeout
    }

    /// The verdict, with at most `limit` proposed groups whose ids are new to `checklist`, and the call.
    func check(
        goal: String,
        checklist: Checklist,
        diff: String,
        limit: Int
    ) async -> (verdict: ObjectiveVerdict, call: ModelCall) {
        let groups = checklist.groups.map { group in
            "## \(group.title) (\(group.id))\n" + group.criteria.map { "- \($0)" }.joined(separator: "\n")
        }
        let question = """
            Goal: \(goal)

            The acceptance checklist; every group has landed and passed its checks:
            \(groups.joined(separator: "\n\n"))

            The mission's changes to the repository:
            \(diff.isEmpty ? "(none)" : String(diff.prefix(12_000)))
            """
        let request = StructuredRequest(
            system: Self.system,
            messages: [ModelMessage(.user, question)],
            schemaName: "objective_check",
            schema: Self.schema,
            maxTokens: 1500
        )
        let (answer, call) = await ModelConsultation.ask(
            model,
            request,
            role: .objective,
            attempt: nil,
            timeout: timeout,
            clock: clock
        )
        guard let value = answer?.value, let met = value["met"]?.boolValue else {
            return (ObjectiveVerdict(met: nil, summary: call.error ?? "no answer", proposed: []), call)
        }
        let summary = String((value["summary"]?.stringValue ?? "").prefix(2000))
        guard !met else { return (ObjectiveVerdict(met: true, summary: summary, proposed: []), call) }
        var taken = Set(checklist.groupIDs)
        var proposed: [ChecklistGroup] = []
        guard case .array(let raws)? = value["groups"] else {
            return (ObjectiveVerdict(met: false, summary: summary, proposed: []), call)
        }
        for raw in raws {
            guard let group = Self.group(raw, taken: &taken) else { continue }
            proposed.append(group)
        }
        let kept = Array(proposed.prefix(max(0, limit)))
        return (
            ObjectiveVerdict(met: false, summary: summary, proposed: kept, leftOut: proposed.count - kept.count), call
        )
    }

    /// A proposed group, bounded (a model's output is hostile input), with an id new to the checklist; nil without a
    /// title or a criterion.
    static func group(_ raw: JSONValue, taken: inout Set<String>) -> ChecklistGroup? {
        let title = String((raw["title"]?.stringValue ?? "").trimmingWhitespace().prefix(200))
        let criteria = Critic.strings(raw["criteria"]).map { String($0.prefix(1000)) }.prefix(10)
        guard !title.isEmpty, !criteria.isEmpty else { return nil }
        let base = String((GroupIdentifier.derive(fromTitle: title) ?? "added").prefix(60))
        var id = GroupIdentifier.isValid(base) ? base : "added_" + base
        if !GroupIdentifier.isValid(id) { id = "added" }
        var suffix = 2
        let stem = id
        while taken.contains(id) {
            id = "\(stem)_\(suffix)"
            suffix += 1
        }
        taken.insert(id)
        var group = ChecklistGroup(id: id, title: title, criteria: Array(criteria))
        group.files = Array(Critic.strings(raw["files"]).prefix(20))
        return group
    }

    static let system = """
        You check whether a coding mission met its goal. Every group of its acceptance checklist has landed and \
        passed its automated checks; read the goal, the checklist and the changes, and say whether the goal as \
        stated is met. If it is not, propose the few missing groups of work, each with a title, concrete \
        verifiable criteria and the files it would touch. Do not propose work the goal does not ask for. Answer \
        with JSON only.
        """

    static let schema: JSONValue = .object([
        "type": "object", "additionalProperties": false,
        "required": .array(["met", "summary", "groups"]),
        "properties": .object([
            "met": .object(["type": "boolean"]),
            "summary": .object(["type": "string"]),
            "groups": .object([
                "type": "array",
                "items": .object([
                    "type": "object", "additionalProperties": false,
                    "required": .array(["title", "criteria", "files"]),
                    "properties": .object([
                        "title": .object(["type": "string"]),
                        "criteria": .object(["type": "array", "items": .object(["type": "string"])]),
                        "files": .object(["type": "array", "items": .object(["type": "string"])]),
                    ]),
                ]),
            ]),
        ]),
    ])
}
