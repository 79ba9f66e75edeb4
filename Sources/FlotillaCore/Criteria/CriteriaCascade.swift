import Foundation

/// How one typed criterion came out on one commit.
package struct CriterionResult: Sendable, Equatable, Codable {
    package enum Status: String, Sendable, Equatable, Codable {
        case met, unmet, inconclusive
    }

    /// The group it belongs to (nil for none: a mission-wide check of several groups keeps each group's id).
    package var group: String
    package var id: String
    package var kind: TypedCriterion.Kind
    package var required: Bool
    package var status: Status
    /// The figure that decided it (a metric's value, an event's count), if any.
    package var value: Double?
    /// What it was held against (a metric's target, with `base * k` worked out; an event's count).
    package var target: Double?
    /// Why, in words: the comparison made, or what could not be read.
    package var evidence: String

    package init(
        group: String,
        id: String,
        kind: TypedCriterion.Kind,
        required: Bool,
        status: Status,
        value: Double? = nil,
        target: Double? = nil,
        evidence: String
    ) {
        self.group = group
        self.id = id
        self.kind = kind
        self.required = required
        self.status = status
        self.value = value
        self.target = target
        self.evidence = evidence
    }

    /// The reason an attempt gives when this result stops it: `criterion_unmet:ID (…)`.
    package var reason: String { "criterion_\(status.rawValue):\(id) (\(evidence))" }
}

/// The verdict cascade over typed criteria: pure, deterministic, the same on every run of the same figures.
///
/// Per criterion: its probe failed or timed out → inconclusive (`probe_failed:NAME`, `probe_timeout:NAME`); its
/// figure is missing or not a number → inconclusive; otherwise met or unmet by the comparison. A check passes when
/// every required criterion is met (and so none of them is inconclusive); optional ones are reported and never block.
/// The first failing required criterion, in checklist order, is the reason.
package enum CriteriaCascade {
    /// Each of `criteria` (of `group`) judged on `runs` (by probe name), `baselines` giving `base` figures.
    package static func evaluate(
        _ criteria: [TypedCriterion],
        group: String,
        runs: [String: ProbeRun],
        baselines: [String: Double]
    ) -> [CriterionResult] {
        criteria.map { evaluate($0, group: group, runs: runs, baselines: baselines) }
    }

    static func evaluate(
        _ criterion: TypedCriterion,
        group: String,
        runs: [String: ProbeRun],
        baselines: [String: Double]
    ) -> CriterionResult {
        var result = CriterionResult(
            group: group,
            id: criterion.id,
            kind: criterion.kind,
            required: criterion.required,
            status: .inconclusive,
            evidence: ""
        )
        let compiled: TypedCriterion.Compiled
        do {
            compiled = try criterion.compiled()
        } catch {
            result.evidence = "does not read: \(error)"
            return result
        }
        // A probe that failed gives no figures to judge.
        for name in criterion.probes.sorted() {
            guard let run = runs[name] else {
                result.evidence = "probe_missing:\(name)"
                return result
            }
            if run.timedOut {
                result.evidence = "probe_timeout:\(name)"
                return result
            }
            if run.exitCode != 0 {
                result.evidence = "probe_failed:\(name) (exit \(run.exitCode.map(String.init) ?? "none"))"
                return result
            }
        }
        switch compiled {
        case .metric(let metric):
            guard let value = figure(metric, in: runs[metric.probe]?.document) else {
                result.evidence = "\(metric.figure) is missing or not a number"
                return result
            }
            result.value = value
            let target: Double
            switch metric.target {
            case .number(let number): target = number
            case .base(let factor):
                guard let base = baselines[metric.figure] else {
                    result.evidence = "\(metric.figure) has no figure at the base commit"
                    return result
                }
                target = base * factor
            }
            result.target = target
            let holds = metric.comparison.holds(value, target)
            result.status = holds ? .met : .unmet
            result.evidence =
                "\(metric.figure) = \(format(value)), \(holds ? "" : "not ")\(metric.comparison.rawValue) \(format(target))"
        case .event(let rule):
            let output = runs[rule.probe]?.output ?? ""
            let count = rule.count(in: output)
            result.value = Double(count)
            switch rule.test {
            case .lacks(let text):
                result.target = 0
                result.status = count == 0 ? .met : .unmet
                result.evidence =
                    count == 0
                    ? "\(rule.probe) never says \"\(text)\"" : "\(rule.probe) says \"\(text)\" \(count) time(s)"
            case .contains(let text):
                result.target = Double(rule.atLeast)
                result.status = count >= rule.atLeast ? .met : .unmet
                result.evidence = "\(rule.probe) says \"\(text)\" \(count) time(s), at least \(rule.atLeast) wanted"
            case .matches(let pattern):
                result.target = Double(rule.atLeast)
                result.status = count >= rule.atLeast ? .met : .unmet
                result.evidence = "\(rule.probe) matches /\(pattern)/ \(count) time(s), at least \(rule.atLeast) wanted"
            }
        case .predicate(let predicate):
            var figures: [String: JSONValue] = [:]
            for (name, run) in runs { figures[name] = run.document ?? .object([:]) }
            do {
                let holds = try predicate.holds(figures)
                result.status = holds ? .met : .unmet
                result.evidence = holds ? "holds" : "does not hold"
            } catch {
                result.evidence = "\(error)"
            }
        }
        return result
    }

    /// The figure a metric names in a document, if it is a number.
    package static func figure(_ metric: TypedCriterion.Metric, in document: JSONValue?) -> Double? {
        var value = document
        for field in metric.path {
            guard case .object(let object)? = value else { return nil }
            value = object[field]
        }
        guard case .number(let number)? = value else { return nil }
        return number
    }

    /// Whether `results` pass, and if not, the first failing required criterion's reason.
    package static func decide(_ results: [CriterionResult]) -> (passed: Bool, reason: String?) {
        guard let first = results.first(where: { $0.required && $0.status != .met }) else { return (true, nil) }
        return (false, first.reason)
    }

    package static func format(_ value: Double) -> String {
        value == value.rounded() && Swift.abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.4g", value)
    }
}

extension Verification {
    /// How the typed criteria came out, as the verification's report records them.
    package var criterionResults: [CriterionResult] {
        guard let value = report?["typed_criteria"], let data = try? JSONEncoder().encode(value) else { return [] }
        return (try? JSONDecoder().decode([CriterionResult].self, from: data)) ?? []
    }

    /// The first required criterion that failed, as the attempt's reason: `criterion_unmet:ID (…)`.
    package var criterionFailure: String? {
        guard case .string(let reason)? = report?["criteria_reason"] else { return nil }
        return reason
    }
}
