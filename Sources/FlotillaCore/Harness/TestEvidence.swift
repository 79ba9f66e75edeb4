import Foundation

/// What a test runner did in one verify run, collected by Flotilla rather than taken from the command's exit status.
///
/// For pytest it is exact: a plugin Flotilla loads (``PytestEvidence``) records the start of the session, each test's
/// outcome as it happens, and the end, into a file of Flotilla's. For the other runners Flotilla recognises it is read
/// from their summary lines (``TestSummaryReader``): counts, not test names. A gate passes only when this agrees with
/// the run at the base commit (``TestBaseline``).
package struct TestEvidence: Sendable, Equatable, Codable {
    package var runner: TestRunner
    /// Whether the runner reported that it started, and that it reached its end.
    package var started: Bool
    package var finished: Bool
    package var passed: Int
    package var failed: Int
    package var skipped: Int
    /// The tests by outcome, where the runner names them (pytest); nil where only counts are known.
    package var passedTests: [String]?
    package var failedTests: [String]?
    package var skippedTests: [String]?

    package init(
        runner: TestRunner,
        started: Bool = true,
        finished: Bool = true,
        passed: Int = 0,
        failed: Int = 0,
        skipped: Int = 0,
        passedTests: [String]? = nil,
        failedTests: [String]? = nil,
        skippedTests: [String]? = nil
    ) {
        self.runner = runner
        self.started = started
        self.finished = finished
        self.passed = passed
        self.failed = failed
        self.skipped = skipped
        self.passedTests = passedTests
        self.failedTests = failedTests
        self.skippedTests = skippedTests
    }

    enum CodingKeys: String, CodingKey {
        case runner, started, finished, passed, failed, skipped
        case passedTests = "passed_tests"
        case failedTests = "failed_tests"
        case skippedTests = "skipped_tests"
    }

    /// Tests that ran to an outcome.
    package var ran: Int { passed + failed + skipped }

    /// "14 passed, 1 failed, 2 skipped (pytest)".
    package var summary: String {
        var parts = ["\(passed) passed"]
        if failed > 0 { parts.append("\(failed) failed") }
        if skipped > 0 { parts.append("\(skipped) skipped") }
        if started && !finished { parts.append("ended before it reported") }
        return parts.joined(separator: ", ") + " (\(runner.rawValue))"
    }

    /// The most test names kept for one runner: enough for any project's suite, bounded for the ledger.
    package static let namesLimit = 50_000

    /// The same evidence without its test names: what a verification's record keeps.
    package var counts: TestEvidence {
        var copy = self
        copy.passedTests = nil
        copy.failedTests = nil
        copy.skippedTests = nil
        return copy
    }
}

/// The tests that ran at the base commit, against which every verify run is judged.
package struct TestBaseline: Sendable, Equatable, Codable {
    package var tests: [TestEvidence]

    package init(tests: [TestEvidence]) {
        self.tests = tests
    }

    /// Why `run` falls short of the base, or nil when it does not.
    ///
    /// - Parameters:
    ///   - run: the evidence of one verify run.
    ///   - complete: whether the run checks everything (the final verify), so that every test of the base must run.
    /// - Returns: a reason, said for a person and the agent.
    package func shortfall(of run: [TestEvidence], complete: Bool) -> String? {
        var reasons: [String] = []
        for base in tests where base.ran > 0 {
            let current = run.first { $0.runner == base.runner }
            let name = base.runner.rawValue
            guard let current, current.started else {
                // A run that never started this runner checks groups that do not use it, unless it checks everything.
                if complete, base.passed > 0 { reasons.append("0 of \(base.passed) tests ran (\(name) did not run)") }
                continue
            }
            if !current.finished {
                reasons.append(
                    "\(current.ran) of \(max(base.passed, current.ran)) tests ran: the run ended without reporting "
                        + "(\(name))"
                )
                continue
            }
            if current.ran == 0, base.passed > 0 {
                reasons.append("0 of \(base.passed) tests ran (\(name))")
                continue
            }
            if let basePassed = base.passedTests, let passed = current.passedTests {
                reasons += Self.byName(base: base, basePassed: basePassed, current: current, passed: passed, complete)
            } else if complete, current.ran < base.passed {
                reasons.append("\(current.ran) of \(base.passed) tests ran (\(name))")
            }
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }

    /// For a runner that names its tests: those that passed at the base and now fail, are skipped or did not run (in a
    /// file that ran, or anywhere when the run checks everything); and those that failed at the base and are now
    /// skipped (the work was to make them pass).
    private static func byName(
        base: TestEvidence,
        basePassed: [String],
        current: TestEvidence,
        passed: [String],
        _ complete: Bool
    ) -> [String] {
        let name = base.runner.rawValue
        let now = Set(passed)
        let failing = Set(current.failedTests ?? [])
        let skipping = Set(current.skippedTests ?? [])
        let ranFiles = Set((passed + (current.failedTests ?? []) + (current.skippedTests ?? [])).map(file))
        var nowFailing: [String] = []
        var newlySkipped: [String] = []
        var vanished: [String] = []
        for test in basePassed where !now.contains(test) {
            if failing.contains(test) {
                nowFailing.append(test)
            } else if skipping.contains(test) {
                newlySkipped.append(test)
            } else if complete || ranFiles.contains(file(test)) {
                vanished.append(test)
            }
        }
        let skippedInstead = (base.failedTests ?? []).filter { skipping.contains($0) }
        var reasons: [String] = []
        if !nowFailing.isEmpty {
            reasons.append(
                "\(count(nowFailing)) that passed at the base now \(nowFailing.count == 1 ? "fails" : "fail") (\(name)): "
                    + list(nowFailing)
            )
        }
        if !newlySkipped.isEmpty {
            reasons.append(
                "\(count(newlySkipped)) that passed at the base \(newlySkipped.count == 1 ? "is" : "are") now skipped "
                    + "(\(name)): " + list(newlySkipped)
            )
        }
        if !skippedInstead.isEmpty {
            reasons.append(
                "\(count(skippedInstead)) that failed at the base \(skippedInstead.count == 1 ? "is" : "are") now "
                    + "skipped, not passed (\(name)): "
                    + list(skippedInstead)
            )
        }
        if !vanished.isEmpty {
            reasons.append("\(count(vanished)) that passed at the base did not run (\(name)): " + list(vanished))
        }
        return reasons
    }

    static func count(_ tests: [String]) -> String { tests.count == 1 ? "1 test" : "\(tests.count) tests" }

    /// The file (module) a test id belongs to: `tests/test_a.py::test_x` → `tests/test_a.py`.
    static func file(_ test: String) -> String {
        String(test.prefix { $0 != ":" })
    }

    static func list(_ tests: [String]) -> String {
        tests.prefix(5).joined(separator: ", ") + (tests.count > 5 ? " and \(tests.count - 5) more" : "")
    }
}
