import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// Typed criteria in the core: the predicate language, probe output, the checklist lines and the verdict cascade.
@Suite("Typed criteria: parsing and the verdict cascade", .tags(.small))
struct CriteriaTests {
    static let figures: [String: JSONValue] = [
        "junit": .object([
            "failed": .number(0),
            "tests": .array([
                .object(["name": .string("a"), "ok": .bool(true), "ms": .number(3)]),
                .object(["name": .string("b"), "ok": .bool(true), "ms": .number(5)]),
            ]),
        ]),
        "bench": .object(["p95_ms": .number(118.5), "tags": .array([.string("warm")])]),
    ]

    @Test(arguments: [
        ("junit.failed == 0 and len(junit.tests) >= 2", true),
        ("all(t.ok for t in junit.tests)", true),
        ("any(t.ms > 4 for t in junit.tests)", true),
        ("sum(t.ms for t in junit.tests if t.ok) == 8", true),
        ("max(t.ms for t in junit.tests) < 5", false),
        ("bench.p95_ms < 120 and not (bench.p95_ms < 100)", true),
        ("\"warm\" in bench.tags and \"cold\" not in bench.tags", true),
        ("junit.tests[1].name == \"b\"", true),
        ("min(3, bench.p95_ms, 7) == 3", true),
        ("abs(-2) * 3 - 1 == 5", true),
        ("bench.p95_ms / 2 > 59", true),
        ("len(\"abc\") == 3 or junit.missing == 1", true),
    ])
    func predicatesEvaluateOverTheFigures(_ text: String, _ expected: Bool) throws {
        #expect(try Predicate.parse(text).holds(Self.figures) == expected, "\(text)")
    }

    @Test(arguments: [
        "junit.missing == 0",  // a path that is not there
        "bench.p95_ms < \"fast\"",  // a number against a string
        "len(bench.p95_ms) == 1",
        "bench.p95_ms + 1",  // not true or false
        "1 / 0 == 1",
        "unknown.x == 1",
    ])
    func whatCannotBeEvaluatedIsAnErrorNeverFalse(_ text: String) throws {
        let predicate = try Predicate.parse(text)
        #expect(throws: (any Error).self) { try predicate.holds(Self.figures) }
    }

    @Test(arguments: [
        ("import(os)", "`import` is not a function here"),
        ("__import__(\"os\")", "not a function here"),
        ("a.b ==", "expected a value"),
        ("a.b == 1 1", "unexpected"),
        ("lambda: 1", "unexpected character `:`"),
        ("a[\"x\"]", "expected an index"),
        ("\"open", "not closed"),
        ("len(x for x in a)", "`len` does not take `for`"),
    ])
    func badPredicatesAreRefusedWhenTheChecklistLoads(_ text: String, _ message: String) {
        #expect {
            try Predicate.parse(text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func aPredicateIsBoundedInSizeAndDepth() {
        let long = (0..<200).map { "a.x\($0) == 1" }.joined(separator: " and ")
        #expect(throws: (any Error).self) { try Predicate.parse(long) }
        let deep = String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100)
        #expect(throws: (any Error).self) { try Predicate.parse(deep) }
        let huge = String(repeating: "1 + ", count: 600) + "1 == 1"
        #expect(throws: (any Error).self) { try Predicate.parse(huge) }
    }

    @Test func aProbesFiguresAreAJSONObjectItsLastJSONLineOrNumberLines() {
        #expect(ProbeRun.document(from: "{\"p95_ms\": 12}") == .object(["p95_ms": .number(12)]))
        #expect(
            ProbeRun.document(from: "warming up\n{\"p95_ms\": 1}\nmore\n{\"p95_ms\": 2}\ndone")
                == .object(["p95_ms": .number(2)])
        )
        #expect(
            ProbeRun.document(from: "p95_ms=12.5\nnote: fast\nlines: 80\n")
                == .object(["p95_ms": .number(12.5), "lines": .number(80)])
        )
        #expect(ProbeRun.document(from: "nothing to see") == nil)
        #expect(ProbeRun.document(from: String(repeating: "[", count: 100_000)) == nil)
    }

    @Test func theChecklistReadsProbesAndTypedCriteriaAndWritesThemBack() throws {
        let text = """
            # Faster

            Probe: bench = ./bench/run.sh
            Probe: cov = ./scripts/coverage.sh file cov.json when landing

            ## Faster parser {#parser}
            Probe: log = ./serve.sh when final
            Metric: bench.p95_ms <= 120
            Metric: bench.p95_ms <= base * 0.9 {#p95}
            Metric: cov.lines >= 85 (optional)
            Event: log contains "warm cache" at least 2
            Event: log lacks "panic:"
            Predicate: bench.errors == 0 and len(bench.runs) >= 3
            Attempts: 6
            - [ ] parse a 10 MB file under the limit

            """
        let checklist = try ChecklistParser.parse(text, file: "ACCEPTANCE.md")
        #expect(checklist.probes.map(\.name) == ["bench", "cov"])
        #expect(
            checklist.probes[1]
                == Probe(name: "cov", command: "./scripts/coverage.sh", file: "cov.json", when: .landing)
        )
        let group = try #require(checklist.groups.first)
        #expect(group.probes == [Probe(name: "log", command: "./serve.sh", when: .final)])
        #expect(group.typedCriteria.map(\.id) == ["metric-1", "p95", "metric-3", "event-1", "event-2", "predicate-1"])
        #expect(group.typedCriteria.map(\.required) == [true, true, false, true, true, true])
        #expect(group.attempts == 6)
        #expect(group.criteria == ["parse a 10 MB file under the limit"])
        // Rendered and read again, and through JSON: the same checklist.
        #expect(try ChecklistParser.parse(ChecklistRenderer.render(checklist), file: "x") == checklist)
        #expect(try ChecklistJSON.decode(ChecklistJSON.encode(checklist), file: "x.json") == checklist)
        #expect(try JSONDecoder().decode(Checklist.self, from: JSONEncoder().encode(checklist)) == checklist)
    }

    @Test func theJSONFormNamesTheFieldOfABadLine() {
        let json = #"{"title": "t", "groups": [{"title": "A", "criteria": ["x"], "metrics": ["a.b <= 1"]}]}"#
        #expect {
            try ChecklistJSON.decode(Data(json.utf8), file: "plan.json")
        } throws: { error in
            "\(error)".contains("groups[0].metrics[0]") && "\(error)".contains("reads probe `a`")
        }
    }

    static func run(_ name: String, exit: Int? = 0, document: JSONValue?, output: String = "") -> ProbeRun {
        ProbeRun(name: name, exitCode: exit, timedOut: exit == nil, document: document, output: output)
    }

    @Test func theCascadeJudgesEachCriterionAndTheFirstRequiredFailureIsTheReason() throws {
        let criteria = [
            try TypedCriterion.parse(.metric, "bench.p95_ms <= base * 0.9 {#p95}", defaultID: "metric-1"),
            try TypedCriterion.parse(.metric, "bench.p95_ms <= 50 (optional)", defaultID: "metric-2"),
            try TypedCriterion.parse(.event, "log contains \"ready\" at least 2", defaultID: "event-1"),
            try TypedCriterion.parse(.predicate, "bench.errors == 0", defaultID: "predicate-1"),
        ]
        let runs = [
            "bench": Self.run("bench", document: .object(["p95_ms": .number(100), "errors": .number(0)])),
            "log": Self.run("log", document: nil, output: "ready\nready\n"),
        ]
        let results = CriteriaCascade.evaluate(criteria, group: "g", runs: runs, baselines: ["bench.p95_ms": 120])
        #expect(results.map(\.status) == [.met, .unmet, .met, .met])
        #expect(results[0].value == 100 && results[0].target == 108)
        #expect(CriteriaCascade.decide(results) == (true, nil))

        // The probe failed: its criteria are inconclusive, and the first required one is the reason.
        var failed = runs
        failed["bench"] = Self.run("bench", exit: 2, document: nil)
        let after = CriteriaCascade.evaluate(criteria, group: "g", runs: failed, baselines: ["bench.p95_ms": 120])
        #expect(after.map(\.status) == [.inconclusive, .inconclusive, .met, .inconclusive])
        #expect(CriteriaCascade.decide(after).reason == "criterion_inconclusive:p95 (probe_failed:bench (exit 2))")
        // No baseline figure: inconclusive, never met.
        let unknown = CriteriaCascade.evaluate([criteria[0]], group: "g", runs: runs, baselines: [:])
        #expect(unknown.map(\.status) == [.inconclusive])
    }

    @Test func theCascadeIsDeterministicAndAnOptionalCriterionNeverBlocks() throws {
        // A property over generated figures: the same input, the same verdict; the verdict passes exactly when every
        // required criterion is met.
        var generator = SeededGenerator(seed: 20_261_207)
        for _ in 0..<500 {
            var criteria: [TypedCriterion] = []
            for index in 0..<Int.random(in: 1...5, using: &generator) {
                let op = Comparison.allCases.randomElement(using: &generator) ?? .less
                let target = Double(Int.random(in: 0...10, using: &generator))
                let optional = Bool.random(using: &generator) ? " (optional)" : ""
                criteria.append(
                    try TypedCriterion.parse(
                        .metric,
                        "p.x\(index % 3) \(op.rawValue) \(Int(target))\(optional)",
                        defaultID: "metric-\(index + 1)"
                    )
                )
            }
            var figures: [String: JSONValue] = [:]
            for key in 0..<3 where Bool.random(using: &generator) {
                figures["x\(key)"] = .number(Double(Int.random(in: 0...10, using: &generator)))
            }
            let exit: Int? = [0, 0, 0, 1, nil].randomElement(using: &generator) ?? 0
            let runs = ["p": Self.run("p", exit: exit, document: .object(figures))]
            let first = CriteriaCascade.evaluate(criteria, group: "g", runs: runs, baselines: [:])
            let second = CriteriaCascade.evaluate(criteria, group: "g", runs: runs, baselines: [:])
            #expect(first == second)
            let verdict = CriteriaCascade.decide(first)
            #expect(verdict.passed == first.filter(\.required).allSatisfy { $0.status == .met })
            if exit != 0 { #expect(first.allSatisfy { $0.status == .inconclusive }) }
            if let reason = verdict.reason {
                let failing = try #require(first.first { $0.required && $0.status != .met })
                #expect(reason == failing.reason)
            }
        }
    }

    @Test func typedCriteriaMetCountTowardsTheGroupsScoreBesideTheReportsOwn() throws {
        let results = [
            CriterionResult(group: "g", id: "a", kind: .metric, required: true, status: .met, evidence: ""),
            CriterionResult(group: "g", id: "b", kind: .event, required: true, status: .unmet, evidence: ""),
            CriterionResult(group: "h", id: "c", kind: .metric, required: true, status: .met, evidence: ""),
        ]
        let data = try JSONEncoder().encode(results)
        var report: [String: JSONValue] = [
            "typed_criteria": try JSONDecoder().decode(JSONValue.self, from: data),
            "groups": .object(["g": .object(["criteria": .object(["x": .bool(true), "y": .bool(false)])])]),
        ]
        func verification() -> Verification {
            Verification(
                kind: .gate,
                attempt: nil,
                commit: String(repeating: "a", count: 40),
                command: "v",
                groups: ["g"],
                exitCode: 0,
                passed: false,
                timedOut: false,
                duration: .zero,
                outputTail: "",
                report: .object(report)
            )
        }
        #expect(verification().criteria(in: "g") == CriteriaScore(passed: 2, total: 4))
        #expect(verification().criteria(in: "h") == CriteriaScore(passed: 1, total: 1))
        report["groups"] = nil
        #expect(verification().criteria(in: "g") == CriteriaScore(passed: 1, total: 2))
        #expect(verification().criteria(in: "z") == nil)
    }

    @Test func aMetricBeatingItsBestTowardsItsTargetIsProgressAndTheStallRuleHearsIt() throws {
        let checklist = try ChecklistParser.parse(
            """
            # G
            Probe: bench = ./bench
            ## Fast {#fast}
            Metric: bench.ms <= 100 {#ms}
            Metric: bench.hits >= 10 {#hits}
            Metric: bench.code == 0 {#code}
            - [ ] fast
            """,
            file: "ACCEPTANCE.md"
        )
        let group = try #require(checklist.group("fast"))
        var bests = MetricBests(group)
        #expect(bests.directions == ["ms": true, "hits": false])
        func figures(_ ms: Double, hits: Double = 0, code: Double = 0) -> [CriterionResult] {
            [
                CriterionResult(
                    group: "fast",
                    id: "ms",
                    kind: .metric,
                    required: true,
                    status: .unmet,
                    value: ms,
                    target: 100,
                    evidence: ""
                ),
                CriterionResult(
                    group: "fast",
                    id: "hits",
                    kind: .metric,
                    required: true,
                    status: .unmet,
                    value: hits,
                    target: 10,
                    evidence: ""
                ),
                CriterionResult(
                    group: "fast",
                    id: "code",
                    kind: .metric,
                    required: true,
                    status: .met,
                    value: code,
                    target: 0,
                    evidence: ""
                ),
            ]
        }
        // The first figures set the bests; then 500 → 300 closes half the gap; 300 → 299 is under 1 % of the 200 left;
        // a worse figure keeps the best; a figure with no direction never counts.
        #expect(bests.record(figures(500)) == [])
        #expect(bests.record(figures(300)) == ["ms"])
        #expect(bests.record(figures(299)) == [])
        #expect(bests.record(figures(400, hits: 5, code: 7)) == ["hits"])
        #expect(bests.best == ["ms": 299, "hits": 5])
        #expect(bests.record(figures(.nan)) == [])

        let rule = StallRule(threshold: 1)
        let group1 = GroupProgress(id: "fast", dependsOn: [], stalledAttempts: 0, escalation: .strategyChange)
        #expect(rule.assess(group1, outcome: .gateFailed, criteria: nil).block)
        let heard = rule.assess(group1, outcome: .gateFailed, criteria: nil, metricImproved: true)
        #expect(!heard.block && heard.madeProgress && heard.stalledAttempts == 0)
    }

    /// Hostile checklists, predicates and probe outputs, from a fixed seed for a time budget: each is read or refused
    /// with a message, never a crash or a hang (`FLOTILLA_FUZZ_SEED`, `FLOTILLA_FUZZ_SECONDS` as for the output
    /// readers).
    @Test func hostileChecklistsPredicatesAndProbeOutputsAreReadOrRefused() {
        let environment = ProcessInfo.processInfo.environment
        var generator = SeededGenerator(seed: environment["FLOTILLA_FUZZ_SEED"].flatMap(UInt64.init) ?? 0xC217_E41A)
        let budget = Duration.seconds(bounded: environment["FLOTILLA_FUZZ_SECONDS"].flatMap(Double.init) ?? 2)
        let pieces = [
            "Probe: ", "Metric: ", "Event: ", "Predicate: ", "Attempts: ", "## G", "# T", "- [ ] c", "\n", " ", "=",
            "b", "b.x", "<=", "==", "!=", ">", "base * ", "0.9", "-1", "1e308", "(", ")", "[", "]", "\"", "/", "{#",
            "}",
            "(optional)", " file ", " when ", "gate", "final", "contains", "lacks", "matches", "at least ", "and", "or",
            "not", "in", "for", "if", "all", "len", "sum", "min", "max", ",", ".", "0", "99999999999", "é", "\u{0}",
        ]
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        var runs = 0
        while clock.now < deadline || runs < 500 {
            var text = ""
            for _ in 0..<Int.random(in: 1...80, using: &generator) {
                text += pieces.randomElement(using: &generator) ?? ""
            }
            _ = try? ChecklistParser.parse("# T\n\nProbe: b = x\n\n## G\n" + text + "\n- [ ] c\n", file: "A.md")
            if let predicate = try? Predicate.parse(text) {
                _ = try? predicate.evaluate(Self.figures.merging(["b": .object(["x": .number(1)])]) { $1 })
            }
            _ = try? TypedCriterion.parse(.metric, text, defaultID: "m")
            _ = try? TypedCriterion.parse(.event, text, defaultID: "e")
            _ = ProbeRun.document(from: text)
            runs += 1
        }
        #expect(runs >= 500)
    }
}
