import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// The evidence of a test run, and its judgement against the run at the base commit.
@Suite("Test evidence and the base's tests", .tags(.small))
struct TestEvidenceTests {
    static func pytest(
        passed: [String],
        failed: [String] = [],
        skipped: [String] = [],
        finished: Bool = true
    ) -> TestEvidence {
        TestEvidence(
            runner: .pytest,
            finished: finished,
            passed: passed.count,
            failed: failed.count,
            skipped: skipped.count,
            passedTests: passed,
            failedTests: failed,
            skippedTests: skipped
        )
    }

    static let base = TestBaseline(tests: [
        pytest(
            passed: ["tests/test_a.py::test_one", "tests/test_a.py::test_two", "tests/test_b.py::test_b"],
            failed: ["tests/test_new.py::test_work"]
        )
    ])

    @Test func aRunThatKeepsTheBasesTestsPassingIsEnough() {
        let run = Self.pytest(passed: Self.base.tests[0].passedTests! + ["tests/test_new.py::test_work"])
        #expect(Self.base.shortfall(of: [run], complete: true) == nil)
        // A run of some groups' tests, from files of their own, leaves the others' files out without blame.
        let some = Self.pytest(passed: ["tests/test_b.py::test_b", "tests/test_new.py::test_work"])
        #expect(Self.base.shortfall(of: [some], complete: false) == nil)
    }

    @Test func aRunThatEndedEarlyRanNothingOrLostTestsFails() {
        let ended = Self.pytest(passed: [], finished: false)
        #expect(
            Self.base.shortfall(of: [ended], complete: false)
                == "0 of 3 tests ran: the run ended without reporting (pytest)"
        )
        let nothing = Self.pytest(passed: [])
        #expect(Self.base.shortfall(of: [nothing], complete: false) == "0 of 3 tests ran (pytest)")
        #expect(Self.base.shortfall(of: [], complete: true) == "0 of 3 tests ran (pytest did not run)")
        #expect(Self.base.shortfall(of: [], complete: false) == nil, "a run for groups that use no tests")
        // One test of a file that ran is gone (deselected); the whole of another file only counts for a full run.
        let lost = Self.pytest(passed: ["tests/test_a.py::test_one", "tests/test_new.py::test_work"])
        #expect(
            Self.base.shortfall(of: [lost], complete: false)
                == "1 test that passed at the base did not run (pytest): tests/test_a.py::test_two"
        )
        #expect(Self.base.shortfall(of: [lost], complete: true)?.hasPrefix("2 tests that passed") == true)
    }

    @Test func skippingWhatPassedOrWhatWasToBeMadeToPassFails() {
        let skipped = Self.pytest(
            passed: ["tests/test_a.py::test_one", "tests/test_a.py::test_two"],
            skipped: ["tests/test_b.py::test_b", "tests/test_new.py::test_work"]
        )
        #expect(
            Self.base.shortfall(of: [skipped], complete: false)
                == "1 test that passed at the base is now skipped (pytest): tests/test_b.py::test_b; "
                + "1 test that failed at the base is now skipped, not passed (pytest): tests/test_new.py::test_work"
        )
    }

    @Test func countsAloneAreJudgedByCount() {
        let base = TestBaseline(tests: [TestEvidence(runner: .cargoTest, passed: 14)])
        #expect(base.shortfall(of: [TestEvidence(runner: .cargoTest, passed: 9)], complete: false) == nil)
        #expect(
            base.shortfall(of: [TestEvidence(runner: .cargoTest, passed: 9)], complete: true)
                == "9 of 14 tests ran (cargo test)"
        )
        #expect(
            base.shortfall(of: [TestEvidence(runner: .cargoTest, finished: false, passed: 3)], complete: false)
                == "3 of 14 tests ran: the run ended without reporting (cargo test)"
        )
    }

    @Test func pytestsRecordIsReadPerTestAndAcrossProcesses() {
        let first = """
            {"event": "start"}
            {"test": "t.py::a", "outcome": "passed"}
            {"test": "t.py::b", "outcome": "passed"}
            {"test": "t.py::b", "outcome": "failed"}
            {"test": "t.py::c", "outcome": "skipped"}
            not json
            {"event": "finish", "status": 1}
            """
        let evidence = PytestEvidence.read([first, #"{"event": "start"}"#])
        #expect(evidence?.passedTests == ["t.py::a"])
        #expect(evidence?.failedTests == ["t.py::b"], "a failing teardown outweighs a passing call")
        #expect(evidence?.skippedTests == ["t.py::c"])
        #expect(evidence?.finished == false, "the second process never finished")
        #expect(PytestEvidence.read([]) == nil)
        #expect(PytestEvidence.read(["{}"]) == nil, "no start: pytest did not run")
    }

    @Test func theOtherRunnersSummariesAreRead() {
        let outputs: [(TestRunner, String, TestEvidence?)] = [
            (
                .unittest, "...s.\n----\nRan 5 tests in 0.002s\n\nOK (skipped=1)\n",
                TestEvidence(runner: .unittest, passed: 4, skipped: 1)
            ),
            (
                .unittest, "Ran 3 tests in 0.1s\n\nFAILED (failures=1, errors=1)\n",
                TestEvidence(runner: .unittest, passed: 1, failed: 2)
            ),
            (.unittest, "Ran 3 tests in 0.1s\n", TestEvidence(runner: .unittest, finished: false, passed: 3)),
            (
                .goTest, "=== RUN   TestA\n--- PASS: TestA (0.00s)\n--- SKIP: TestB (0.00s)\nok  \texample/x\t0.01s\n",
                TestEvidence(runner: .goTest, passed: 1, skipped: 1)
            ),
            (
                .goTest, "ok  \texample/x\t0.01s\nFAIL\texample/y\t0.02s\n",
                TestEvidence(runner: .goTest, passed: 1, failed: 1)
            ),
            (
                .cargoTest,
                "running 2 tests\ntest a ... ok\ntest b ... ignored\n\ntest result: ok. 1 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\nrunning 1 test\n",
                TestEvidence(runner: .cargoTest, finished: false, passed: 1, skipped: 1)
            ),
            (
                .jest, "Tests:       1 failed, 2 skipped, 12 passed, 15 total\n",
                TestEvidence(runner: .jest, passed: 12, failed: 1, skipped: 2)
            ),
            (
                .vitest, " Test Files  2 passed (2)\n      Tests  1 failed | 12 passed | 2 skipped (15)\n",
                TestEvidence(runner: .vitest, passed: 12, failed: 1, skipped: 2)
            ),
            (
                .mocha, "  12 passing (30ms)\n  2 pending\n  1 failing\n",
                TestEvidence(runner: .mocha, passed: 12, failed: 1, skipped: 2)
            ),
            (
                .swiftTest,
                "◇ Test run started.\n✘ Test b() failed after 0.1 seconds.\n✘ Test run with 3 tests in 1 suite failed after 0.1 seconds with 1 issue.\n",
                TestEvidence(runner: .swiftTest, passed: 2, failed: 1)
            ),
            (
                .swiftTest,
                "Test Suite 'All tests' started at 2026-12-07\nExecuted 4 tests, with 1 failure (0 unexpected) in 0.1 seconds\n",
                TestEvidence(runner: .swiftTest, passed: 3, failed: 1)
            ),
            (.swiftTest, "◇ Test run started.\n", TestEvidence(runner: .swiftTest, finished: false)),
            (.cargoTest, "compiling…\n", nil),
        ]
        for (runner, output, expected) in outputs {
            #expect(TestSummaryReader.read(output, runners: [runner]).first == expected, "\(runner): \(output)")
        }
    }
}
