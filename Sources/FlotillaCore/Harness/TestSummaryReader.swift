import Foundation

/// Counts read from the summary lines the test runners print, for the runners Flotilla sees only through their
/// output: unittest, go test, cargo test, jest, vitest, mocha and swift test.
///
/// A summary line is text the code under test could print too; these counts catch a run that ended early or ran
/// nothing, not a forger (pytest's evidence, ``PytestEvidence``, is Flotilla's own).
package enum TestSummaryReader {
    /// The evidence in `output` for each of `runners` that it shows started.
    package static func read(_ output: String, runners: Set<TestRunner>) -> [TestEvidence] {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: true).map {
            String($0).trimmingCharacters(in: .whitespaces)
        }
        var evidence: [TestEvidence] = []
        for runner in runners.sorted(by: { $0.rawValue < $1.rawValue }) {
            let read: TestEvidence? =
                switch runner {
                case .unittest: unittest(lines)
                case .goTest: goTest(lines)
                case .cargoTest: cargoTest(lines)
                case .jest: jest(lines)
                case .vitest: vitest(lines)
                case .mocha: mocha(lines)
                case .swiftTest: swiftTest(lines)
                case .pytest, .make, .npm, .tox: nil
                }
            if let read { evidence.append(read) }
        }
        return evidence
    }

    /// The numbers before each of `labels` in `line` ("3 passed, 1 failed" → passed 3, failed 1).
    static func numbers(in line: String, _ labels: [String]) -> [String: Int] {
        let words = line.replacingOccurrences(of: ",", with: " ").replacingOccurrences(of: ";", with: " ")
            .replacingOccurrences(of: "|", with: " ").split(separator: " ").map(String.init)
        var found: [String: Int] = [:]
        for (index, word) in words.enumerated() where index > 0 {
            let label = word.trimmingCharacters(in: CharacterSet.punctuationCharacters)
            if labels.contains(label), let value = Int(words[index - 1]) { found[label, default: 0] += value }
        }
        return found
    }

    /// `Ran 14 tests in 0.01s`, then `OK`, `OK (skipped=2)` or `FAILED (failures=1, errors=1, skipped=2)`.
    static func unittest(_ lines: [String]) -> TestEvidence? {
        guard let ranLine = lines.last(where: { $0.hasPrefix("Ran ") && $0.contains(" test") }),
            let ran = Int(ranLine.split(separator: " ")[1])
        else { return nil }
        var evidence = TestEvidence(runner: .unittest)
        if let verdict = lines.last(where: { $0.hasPrefix("OK") || $0.hasPrefix("FAILED") }) {
            let pairs = verdict.split { "(), ".contains($0) }.compactMap { part -> (String, Int)? in
                let pieces = part.split(separator: "=")
                guard pieces.count == 2, let value = Int(pieces[1]) else { return nil }
                return (String(pieces[0]), value)
            }
            let counts = Dictionary(pairs, uniquingKeysWith: +)
            evidence.failed = (counts["failures"] ?? 0) + (counts["errors"] ?? 0)
            evidence.skipped = (counts["skipped"] ?? 0) + (counts["expected failures"] ?? 0)
        } else {
            evidence.finished = false
        }
        evidence.passed = max(0, ran - evidence.failed - evidence.skipped)
        return evidence
    }

    /// `--- PASS: TestX`, `--- FAIL:`, `--- SKIP:` with `-v`; otherwise a package's `ok` or `FAIL` line.
    static func goTest(_ lines: [String]) -> TestEvidence? {
        var evidence = TestEvidence(runner: .goTest)
        var verbose = false
        var packages = (passed: 0, failed: 0)
        for line in lines {
            if line.hasPrefix("--- PASS:") {
                evidence.passed += 1
                verbose = true
            } else if line.hasPrefix("--- FAIL:") {
                evidence.failed += 1
                verbose = true
            } else if line.hasPrefix("--- SKIP:") {
                evidence.skipped += 1
                verbose = true
            } else if line.hasPrefix("ok ") || line.hasPrefix("ok\t") {
                packages.passed += 1
            } else if line.hasPrefix("FAIL\t") || line.hasPrefix("FAIL ") {
                packages.failed += 1
            }
        }
        if !verbose {
            evidence.passed = packages.passed
            evidence.failed = packages.failed
        }
        return evidence.ran > 0 || packages.passed + packages.failed > 0 ? evidence : nil
    }

    /// `running 14 tests` for each test binary, and `test result: ok. 14 passed; 0 failed; 1 ignored; …` at its end.
    static func cargoTest(_ lines: [String]) -> TestEvidence? {
        let runs = lines.filter { $0.hasPrefix("running ") && ($0.hasSuffix(" tests") || $0.hasSuffix(" test")) }.count
        let results = lines.filter { $0.hasPrefix("test result:") }
        guard runs > 0 || !results.isEmpty else { return nil }
        var evidence = TestEvidence(runner: .cargoTest, finished: results.count >= runs)
        for line in results {
            let counts = numbers(in: line, ["passed", "failed", "ignored"])
            evidence.passed += counts["passed"] ?? 0
            evidence.failed += counts["failed"] ?? 0
            evidence.skipped += counts["ignored"] ?? 0
        }
        return evidence
    }

    /// `Tests:       1 failed, 2 skipped, 12 passed, 15 total`.
    static func jest(_ lines: [String]) -> TestEvidence? {
        guard let line = lines.last(where: { $0.hasPrefix("Tests:") }) else { return nil }
        let counts = numbers(in: line, ["passed", "failed", "skipped", "todo"])
        return TestEvidence(
            runner: .jest,
            passed: counts["passed"] ?? 0,
            failed: counts["failed"] ?? 0,
            skipped: (counts["skipped"] ?? 0) + (counts["todo"] ?? 0)
        )
    }

    /// `Tests  1 failed | 12 passed | 2 skipped (15)`.
    static func vitest(_ lines: [String]) -> TestEvidence? {
        guard let line = lines.last(where: { $0.hasPrefix("Tests ") && $0.contains("(") }) else { return nil }
        let counts = numbers(in: line, ["passed", "failed", "skipped", "todo"])
        return TestEvidence(
            runner: .vitest,
            passed: counts["passed"] ?? 0,
            failed: counts["failed"] ?? 0,
            skipped: (counts["skipped"] ?? 0) + (counts["todo"] ?? 0)
        )
    }

    /// `12 passing (30ms)`, `1 failing`, `2 pending`.
    static func mocha(_ lines: [String]) -> TestEvidence? {
        let counts = lines.reduce(into: [String: Int]()) { total, line in
            total.merge(numbers(in: line, ["passing", "failing", "pending"]), uniquingKeysWith: +)
        }
        guard !counts.isEmpty else { return nil }
        return TestEvidence(
            runner: .mocha,
            passed: counts["passing"] ?? 0,
            failed: counts["failing"] ?? 0,
            skipped: counts["pending"] ?? 0
        )
    }

    /// swift-testing's `Test run with 14 tests passed after …` (or `… failed after … with 2 issues`), and XCTest's
    /// `Executed 14 tests, with 1 failure`; started once `Test run started.` or a test suite started.
    static func swiftTest(_ lines: [String]) -> TestEvidence? {
        let started = lines.contains {
            $0.contains("Test run started.") || ($0.hasPrefix("Test Suite '") && $0.contains("' started"))
        }
        var evidence = TestEvidence(runner: .swiftTest, started: started, finished: false)
        if let line = lines.last(where: { $0.contains("Test run with ") && $0.contains(" tests") }) {
            let total = numbers(in: line, ["tests"])["tests"] ?? 0
            let failed = lines.filter {
                $0.contains("✘ Test ") && $0.contains(" failed after ") && !$0.contains("Test run with ")
            }.count
            evidence.finished = true
            evidence.failed = failed
            evidence.passed = max(0, total - failed)
        }
        if let line = lines.last(where: { $0.hasPrefix("Executed ") && $0.contains(" test") }) {
            let counts = numbers(in: line, ["tests", "test", "failures", "failure", "skipped"])
            let total = (counts["tests"] ?? 0) + (counts["test"] ?? 0)
            let failed = (counts["failures"] ?? 0) + (counts["failure"] ?? 0)
            evidence.finished = true
            evidence.skipped += counts["skipped"] ?? 0
            evidence.failed += failed
            evidence.passed += max(0, total - failed - (counts["skipped"] ?? 0))
        }
        return started || evidence.finished ? evidence : nil
    }
}
