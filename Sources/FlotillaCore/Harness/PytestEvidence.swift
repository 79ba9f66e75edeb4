import Foundation

/// The pytest plugin through which Flotilla sees a run for itself, and the reading of what it wrote.
///
/// Loaded with `-p flotilla_evidence` (`PYTEST_ADDOPTS`) from a directory of Flotilla's that the verify run may read
/// but not write; it appends to a file in `FLOTILLA_EVIDENCE` (a directory outside the checkout) a line when the
/// session starts, one per test outcome as it happens, and one when the session ends. A run that ends the process
/// early (`os._exit(0)` at import) leaves a start and no end.
package enum PytestEvidence {
    package static let module = "flotilla_evidence"

    package static let source = #"""
        """Flotilla's record of a pytest run (loaded with -p flotilla_evidence; writes where FLOTILLA_EVIDENCE says)."""
        import json
        import os

        _record = None


        def _write(entry):
            if _record is not None:
                _record.write(json.dumps(entry) + "\n")
                _record.flush()


        def pytest_configure(config):
            global _record
            directory = os.environ.get("FLOTILLA_EVIDENCE")
            if directory and _record is None and not hasattr(config, "workerinput"):
                _record = open(os.path.join(directory, "pytest-%d.jsonl" % os.getpid()), "a", encoding="utf-8")
                _write({"event": "start"})


        def pytest_runtest_logreport(report):
            if report.when == "call" or report.outcome != "passed":
                _write({"test": report.nodeid, "outcome": report.outcome})


        def pytest_sessionfinish(session, exitstatus):
            _write({"event": "finish", "status": int(exitstatus)})

        """#

    /// The evidence of the record files `texts` (one per pytest process), or nil when pytest did not start.
    package static func read(_ texts: [String]) -> TestEvidence? {
        guard !texts.isEmpty else { return nil }
        var outcomes: [String: String] = [:]
        var order: [String] = []
        var starts = 0
        var finishes = 0
        for text in texts {
            for line in text.split(separator: "\n") {
                guard let entry = try? JSONDecoder().decode([String: JSONValue].self, from: Data(line.utf8)) else {
                    continue
                }
                switch entry["event"]?.stringValue {
                case "start": starts += 1
                case "finish": finishes += 1
                default:
                    guard let test = entry["test"]?.stringValue, let outcome = entry["outcome"]?.stringValue else {
                        continue
                    }
                    if outcomes[test] == nil { order.append(test) }
                    // A failure in setup or teardown outweighs a passing call.
                    if outcomes[test] != "failed" { outcomes[test] = outcome }
                }
            }
        }
        guard starts > 0 else { return nil }
        func tests(_ outcome: String) -> [String] {
            Array(order.filter { outcomes[$0] == outcome }.prefix(TestEvidence.namesLimit))
        }
        let passed = tests("passed")
        let failed = tests("failed")
        let skipped = tests("skipped")
        return TestEvidence(
            runner: .pytest,
            started: true,
            finished: finishes >= starts,
            passed: passed.count,
            failed: failed.count,
            skipped: skipped.count,
            passedTests: passed,
            failedTests: failed,
            skippedTests: skipped
        )
    }
}
