import Foundation

/// One run of the gate, a regression verify or the final verify.
package struct Verification: Sendable, Equatable, Codable {
    package var kind: VerificationKind
    package var attempt: AttemptKey?
    /// The exact commit that was checked.
    package var commit: String
    package var command: String
    /// The groups this verification was for; empty means all (the final verify).
    package var groups: [String]
    /// How many groups that had landed before were checked again with them (a regression verify).
    package var landedGroupsChecked: Int
    package var exitCode: Int?
    package var passed: Bool
    package var timedOut: Bool
    package var duration: Duration
    package var outputTail: String
    /// The JSON the command wrote to `FLOTILLA_REPORT`, if any.
    package var report: JSONValue?

    package init(
        kind: VerificationKind,
        attempt: AttemptKey?,
        commit: String,
        command: String,
        groups: [String],
        landedGroupsChecked: Int = 0,
        exitCode: Int?,
        passed: Bool,
        timedOut: Bool,
        duration: Duration,
        outputTail: String,
        report: JSONValue?
    ) {
        self.kind = kind
        self.attempt = attempt
        self.commit = commit
        self.command = command
        self.groups = groups
        self.landedGroupsChecked = landedGroupsChecked
        self.exitCode = exitCode
        self.passed = passed
        self.timedOut = timedOut
        self.duration = duration
        self.outputTail = outputTail
        self.report = report
    }

    /// The criteria met for `group`: those the verify's report shows passing, of those it lists, and its typed
    /// criteria that Flotilla's probes found met; nil when neither says anything.
    ///
    /// Progress for the stall rule and the rank of best-of-N candidates: a typed criterion newly met is progress.
    package func criteria(in group: String) -> CriteriaScore? {
        var score: CriteriaScore?
        if case .object(let criteria)? = report?["groups"]?[group]?["criteria"] {
            let passed = criteria.values.count { value in
                value.boolValue == true || value["passed"]?.boolValue == true
            }
            score = CriteriaScore(passed: passed, total: criteria.count)
        }
        let typed = criterionResults.filter { $0.group == group }
        guard !typed.isEmpty else { return score }
        let met = typed.count { $0.status == .met }
        return CriteriaScore(passed: (score?.passed ?? 0) + met, total: (score?.total ?? 0) + typed.count)
    }
}

/// A verification as the ledger holds it.
package struct VerificationRecord: Sendable, Equatable {
    package var id: Int64
    package var verification: Verification
    package var at: Date

    package init(id: Int64, verification: Verification, at: Date) {
        self.id = id
        self.verification = verification
        self.at = at
    }
}

extension Verification {
    /// What the test runners did in this verification (``TestEvidence``, counts only), when Flotilla saw them.
    package var tests: [TestEvidence]? {
        guard let tests = report?["tests"] else { return nil }
        return try? tests.decoded(as: [TestEvidence].self)
    }
}

extension Array where Element == TestEvidence {
    /// "2 passed (pytest); 14 passed, 1 skipped (cargo test)".
    package var summary: String { map(\.summary).joined(separator: "; ") }
}
