/// How far an attempt got by its group's criteria: how many the verify report shows passing, of how many it listed.
///
/// Only Flotilla's own run of the verify command gives one (what an agent says of itself never counts). More criteria
/// passing than ever before on a group is progress for the stall rule, and the first thing best of N ranks by.
package struct CriteriaScore: Sendable, Hashable, Codable, CustomStringConvertible {
    package var passed: Int
    /// The criteria the report listed; nil where only the count was kept (the ledger stores the count).
    package var total: Int?

    package init(passed: Int, total: Int? = nil) {
        self.passed = passed
        self.total = total
    }

    package var description: String { total.map { "\(passed)/\($0)" } ?? "\(passed)" }
}

extension Optional where Wrapped == CriteriaScore {
    /// What scores are compared by: the count passed (a report listing more criteria is not better for it), -1
    /// without a report, so that any score beats none.
    package var rank: Int { self?.passed ?? -1 }
}
