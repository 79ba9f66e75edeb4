import Foundation

/// A criterion that judges figures, not words: `Metric:`, `Event:` or `Predicate:` in a group.
///
/// ```
/// Metric: bench.p95_ms <= 120
/// Metric: bench.p95_ms <= base * 0.9 {#p95}
/// Metric: cov.lines >= 85 (optional)
/// Event: server contains "listening"
/// Event: server lacks "panic:"
/// Event: server matches /ready in [0-9]+ ms/ at least 2
/// Predicate: junit.failed == 0 and len(junit.tests) >= 40
/// ```
/// The checklist keeps each as its text; ``compiled()`` reads it (the parser checked it when the checklist loaded).
package struct TypedCriterion: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        case metric, event, predicate
    }

    /// Unique in its group: `{#id}`, or `metric-1`, `event-1`, `predicate-1`… in order.
    package var id: String
    package var kind: Kind
    /// What follows the directive, without its `{#id}` and `(optional)`.
    package var expression: String
    /// An optional criterion is reported and counts as progress, but never blocks.
    package var required: Bool

    package init(id: String, kind: Kind, expression: String, required: Bool = true) {
        self.id = id
        self.kind = kind
        self.expression = expression
        self.required = required
    }

    /// Reads a directive's value: `EXPRESSION [(optional)] [{#id}]`; `id` is the default when none is given.
    package static func parse(_ kind: Kind, _ value: String, defaultID: String) throws(PredicateError) -> TypedCriterion
    {
        var text = value.trimmingWhitespace()
        var id = defaultID
        var required = true
        for _ in 0..<2 {
            if text.hasSuffix("}"), let open = text.range(of: "{#", options: .backwards) {
                id = String(text[open.upperBound..<text.index(before: text.endIndex)]).trimmingWhitespace()
                guard Self.isID(id) else {
                    throw PredicateError("criterion id `\(id)` must be letters, digits, _ and -")
                }
                text = String(text[..<open.lowerBound]).trimmingWhitespace()
            }
            if text.lowercased().hasSuffix("(optional)") {
                required = false
                text = String(text.dropLast("(optional)".count)).trimmingWhitespace()
            }
        }
        let criterion = TypedCriterion(id: id, kind: kind, expression: text, required: required)
        _ = try criterion.compiled()
        return criterion
    }

    static func isID(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || $0 == "_" || $0 == "-" || ("0"..."9").contains($0))
            }
    }

    /// The line as the checklist writes it (after `Metric:`, `Event:` or `Predicate:`).
    package var line: String { expression + (required ? "" : " (optional)") + " {#\(id)}" }

    /// The criterion, read.
    package func compiled() throws(PredicateError) -> Compiled {
        switch kind {
        case .metric: .metric(try Metric.parse(expression))
        case .event: .event(try EventRule.parse(expression))
        case .predicate: .predicate(try Predicate.parse(expression))
        }
    }

    /// The probes whose figures it reads.
    package var probes: Set<String> {
        switch try? compiled() {
        case .metric(let metric)?: [metric.probe]
        case .event(let rule)?: [rule.probe]
        case .predicate(let predicate)?: predicate.probes
        case nil: []
        }
    }

    package enum Compiled: Sendable, Equatable {
        case metric(Metric)
        case event(EventRule)
        case predicate(Predicate)
    }

    /// `PROBE.PATH OP TARGET`, the target a number or `base * K` (the same figure on the mission's base commit).
    package struct Metric: Sendable, Equatable {
        package var probe: String
        package var path: [String]
        package var comparison: Comparison
        package var target: Target

        package enum Target: Sendable, Equatable {
            case number(Double)
            /// `base * factor` (`base` alone is a factor of 1).
            case base(factor: Double)
        }

        /// The figure's name as written (`bench.p95_ms`): the key of its baseline.
        package var figure: String { ([probe] + path).joined(separator: ".") }

        static func parse(_ text: String) throws(PredicateError) -> Metric {
            let shape = "a metric is `PROBE.FIGURE OP TARGET`, as in `bench.p95_ms <= 120` or `cov.lines >= base * 0.9`"
            guard let (comparison, range) = Comparison.find(in: text) else { throw PredicateError(shape) }
            let left = text[..<range.lowerBound].trimmingWhitespace()
            let right = text[range.upperBound...].trimmingWhitespace()
            let parts = left.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }), Probe.isName(parts[0])
            else { throw PredicateError(shape) }
            let target: Target
            if let number = Double(right), number.isFinite {
                target = .number(number)
            } else if right == "base" {
                target = .base(factor: 1)
            } else if right.hasPrefix("base"), let star = right.firstIndex(of: "*"),
                right[..<star].trimmingWhitespace() == "base",
                let factor = Double(right[right.index(after: star)...].trimmingWhitespace()), factor.isFinite
            {
                target = .base(factor: factor)
            } else {
                throw PredicateError("the target `\(right)` is not a number or `base * K`")
            }
            return Metric(probe: parts[0], path: Array(parts.dropFirst()), comparison: comparison, target: target)
        }
    }

    /// `PROBE contains "TEXT"`, `PROBE lacks "TEXT"` or `PROBE matches /RE/`, optionally `at least N` (contains,
    /// matches): what the probe's output must (or must not) say.
    package struct EventRule: Sendable, Equatable {
        package enum Test: Sendable, Equatable {
            case contains(String)
            case lacks(String)
            case matches(String)
        }

        package var probe: String
        package var test: Test
        package var atLeast: Int

        static func parse(_ text: String) throws(PredicateError) -> EventRule {
            let shape = "an event is `PROBE contains \"TEXT\"`, `PROBE lacks \"TEXT\"` or `PROBE matches /RE/`"
            var rest = text.trimmingWhitespace()
            var atLeast = 1
            if let range = rest.range(of: " at least ", options: .backwards) {
                guard let count = Int(rest[range.upperBound...].trimmingWhitespace()), count >= 1, count <= 1_000_000
                else { throw PredicateError("`at least N` needs a whole number from 1") }
                atLeast = count
                rest = String(rest[..<range.lowerBound]).trimmingWhitespace()
            }
            guard let space = rest.firstIndex(of: " ") else { throw PredicateError(shape) }
            let probe = String(rest[..<space])
            guard Probe.isName(probe) else { throw PredicateError(shape) }
            rest = rest[space...].trimmingWhitespace()
            guard let verbEnd = rest.firstIndex(of: " ") else { throw PredicateError(shape) }
            let verb = rest[..<verbEnd]
            let operand = rest[verbEnd...].trimmingWhitespace()
            let test: Test
            switch verb {
            case "contains", "lacks":
                guard operand.count >= 2, operand.hasPrefix("\""), operand.hasSuffix("\"") else {
                    throw PredicateError("the text after `\(verb)` goes in double quotes")
                }
                let inner = String(operand.dropFirst().dropLast())
                guard !inner.isEmpty else { throw PredicateError("the text after `\(verb)` is empty") }
                test = verb == "contains" ? .contains(inner) : .lacks(inner)
                if verb == "lacks" && atLeast != 1 { throw PredicateError("`lacks` takes no `at least`") }
            case "matches":
                guard operand.count >= 3, operand.hasPrefix("/"), operand.hasSuffix("/") else {
                    throw PredicateError("the pattern after `matches` goes between slashes: /RE/")
                }
                let pattern = String(operand.dropFirst().dropLast())
                guard pattern.count <= 512, (try? NSRegularExpression(pattern: pattern)) != nil else {
                    throw PredicateError("/\(pattern)/ is not a regular expression (at most 512 characters)")
                }
                test = .matches(pattern)
            default:
                throw PredicateError(shape)
            }
            return EventRule(probe: probe, test: test, atLeast: atLeast)
        }

        /// How many times the output says it.
        func count(in output: String) -> Int {
            switch test {
            case .contains(let text), .lacks(let text): output.components(separatedBy: text).count - 1
            case .matches(let pattern):
                (try? NSRegularExpression(pattern: pattern))?.numberOfMatches(
                    in: output,
                    range: NSRange(output.startIndex..., in: output)
                ) ?? 0
            }
        }
    }
}

/// The six comparisons of a metric.
package enum Comparison: String, Sendable, Equatable, CaseIterable {
    case lessOrEqual = "<="
    case greaterOrEqual = ">="
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case greater = ">"

    /// The first comparison in `text` (two-character ones first), with where it stands.
    static func find(in text: String) -> (Comparison, Range<String.Index>)? {
        for comparison in allCases {
            if let range = text.range(of: comparison.rawValue) { return (comparison, range) }
        }
        return nil
    }

    package func holds(_ value: Double, _ target: Double) -> Bool {
        switch self {
        case .lessOrEqual: value <= target
        case .greaterOrEqual: value >= target
        case .equal: value == target
        case .notEqual: value != target
        case .less: value < target
        case .greater: value > target
        }
    }

    /// Whether a lower value is better (towards the target), for progress: nil when neither is.
    package var lowerIsBetter: Bool? {
        switch self {
        case .lessOrEqual, .less: true
        case .greaterOrEqual, .greater: false
        case .equal, .notEqual: nil
        }
    }
}
