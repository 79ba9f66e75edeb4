import Foundation

/// A group as the ledger holds it.
package struct GroupRecord: Sendable, Equatable {
    package var id: String
    package var position: Int
    package var title: String
    package var dependsOn: [String]
    package var check: String?
    package var criteria: [String]
    package var status: GroupStatus
    package var attempts: Int
    package var stalledAttempts: Int
    package var escalation: Escalation
    package var bestCriteriaPassed: Int?
    package var landedCommit: String?
    package var blockedReason: String?
    package var costUSD: Double
    /// Who added the group to the running mission (`objective check`); nil for the checklist's own groups.
    package var addedBy: String?

    package init(
        id: String,
        position: Int,
        title: String,
        dependsOn: [String],
        check: String?,
        criteria: [String],
        status: GroupStatus,
        attempts: Int,
        stalledAttempts: Int,
        escalation: Escalation,
        bestCriteriaPassed: Int?,
        landedCommit: String?,
        blockedReason: String?,
        costUSD: Double
    ) {
        self.id = id
        self.position = position
        self.title = title
        self.dependsOn = dependsOn
        self.check = check
        self.criteria = criteria
        self.status = status
        self.attempts = attempts
        self.stalledAttempts = stalledAttempts
        self.escalation = escalation
        self.bestCriteriaPassed = bestCriteriaPassed
        self.landedCommit = landedCommit
        self.blockedReason = blockedReason
        self.costUSD = costUSD
    }

    package var progress: GroupProgress {
        GroupProgress(
            id: id,
            dependsOn: dependsOn,
            status: status,
            attempts: attempts,
            stalledAttempts: stalledAttempts,
            escalation: escalation,
            bestCriteriaPassed: bestCriteriaPassed
        )
    }
}
