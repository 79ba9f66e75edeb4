import Foundation

/// Where a typed criterion stands in a mission: its last result, its best figure so far and its target.
package struct CriterionStanding: Sendable, Equatable, Codable {
    package var id: String
    package var kind: TypedCriterion.Kind
    package var expression: String
    package var required: Bool
    /// The last result's status; nil until a verification judged it.
    package var status: CriterionResult.Status?
    package var value: Double?
    /// The best figure any verification measured for it, towards its target (metrics with `<`, `<=`, `>`, `>=`).
    package var bestValue: Double?
    package var target: Double?
    package var evidence: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, expression, required, status, value, target, evidence
        case bestValue = "best_value"
    }

    /// Each group's typed criteria, as the mission's verifications (oldest first) left them.
    package static func of(_ checklist: Checklist, verifications: [Verification]) -> [String: [CriterionStanding]] {
        var results: [String: [String: [CriterionResult]]] = [:]
        for verification in verifications {
            for result in verification.criterionResults {
                results[result.group, default: [:]][result.id, default: []].append(result)
            }
        }
        var standings: [String: [CriterionStanding]] = [:]
        for group in checklist.groups where !group.typedCriteria.isEmpty {
            standings[group.id] = group.typedCriteria.map { criterion in
                let history = results[group.id]?[criterion.id] ?? []
                let last = history.last
                var standing = CriterionStanding(
                    id: criterion.id,
                    kind: criterion.kind,
                    expression: criterion.expression,
                    required: criterion.required,
                    status: last?.status,
                    value: last?.value,
                    bestValue: nil,
                    target: last?.target,
                    evidence: last?.evidence
                )
                if case .metric(let metric)? = try? criterion.compiled(), let lower = metric.comparison.lowerIsBetter {
                    standing.bestValue = history.compactMap(\.value).reduce(nil) { best, value in
                        guard let best else { return value }
                        return lower ? Swift.min(best, value) : Swift.max(best, value)
                    }
                }
                return standing
            }
        }
        return standings
    }

    /// One line for a person: `p95: unmet, 131 (best 125, target 117) — bench.p95_ms <= base * 0.9`.
    package var summary: String {
        let shown = status?.rawValue ?? "not judged yet"
        var figures = value.map(CriteriaCascade.format) ?? ""
        var notes: [String] = []
        if let best = bestValue, best != value { notes.append("best \(CriteriaCascade.format(best))") }
        if let target, kind == .metric { notes.append("target \(CriteriaCascade.format(target))") }
        if !notes.isEmpty { figures += " (\(notes.joined(separator: ", ")))" }
        let optional = required ? "" : " (optional)"
        return "\(id)\(optional): \(shown)" + (figures.isEmpty ? "" : ", \(figures)") + " — \(expression)"
    }
}
