import FlotillaCore
import Foundation

/// One notification of a mission: where it went, about what, and how its tries went.
package struct NotificationDTO: Codable, Sendable, Equatable {
    package var target: String
    package var kind: String
    package var category: String
    package var event: String
    /// `pending`, `delivered` or `failed` (given up).
    package var state: String
    package var tries: Int
    package var lastError: String?
    package var createdAt: Date
    package var finishedAt: Date?
    package var nextAt: Date?

    enum CodingKeys: String, CodingKey {
        case target, kind, category, event, state, tries
        case lastError = "last_error"
        case createdAt = "created_at"
        case finishedAt = "finished_at"
        case nextAt = "next_at"
    }

    package init(_ record: NotificationRecord) {
        target = record.target
        kind = record.kind.rawValue
        category = record.category.rawValue
        event = record.event
        state = record.state.rawValue
        tries = record.tries
        lastError = record.lastError
        createdAt = record.createdAt
        finishedAt = record.finishedAt
        nextAt = record.nextAt
    }
}

/// The body of `POST /missions/{id}/reject`.
package struct RejectionRequestDTO: Codable, Sendable, Equatable {
    /// The groups whose waiting landings are rejected; empty means everything that waits.
    package var groups: [String]
    /// Why; the group's next attempt is told.
    package var reason: String

    package init(groups: [String], reason: String) {
        self.groups = groups
        self.reason = reason
    }
}

/// What `land` did: the branch, where it was, where it is now, and how it got there.
package struct LandingDTO: Codable, Sendable {
    package var branch: String
    package var from: String
    package var commit: String?
    /// `fast-forward`, `merge`, or `already`.
    package var how: String
    package var mission: MissionDTO

    package init(_ landing: LandingOnto, mission: MissionDTO) {
        branch = landing.branch
        from = landing.from
        commit = landing.commit
        how = landing.how
        self.mission = mission
    }
}

/// What `flotilla check` found: the verify's verdict on the commit and each typed criterion's result.
package struct CheckDTO: Codable, Sendable {
    package var mission: String
    package var commit: String
    package var groups: [String]
    package var passed: Bool
    package var exitCode: Int?
    package var reason: String?
    package var criteria: [CriterionResult]
    package var outputTail: String

    enum CodingKeys: String, CodingKey {
        case mission, commit, groups, passed, reason, criteria
        case exitCode = "exit_code"
        case outputTail = "output_tail"
    }

    package init(mission: MissionID, _ verification: Verification) {
        self.mission = mission.rawValue
        commit = verification.commit
        groups = verification.groups
        passed = verification.passed
        exitCode = verification.exitCode
        reason = verification.criterionFailure
        criteria = verification.criterionResults
        outputTail = verification.outputTail
    }
}

/// The body of `POST /missions/{id}/check`: which groups (all when absent) and which commit (the target's head).
package struct CheckRequestDTO: Codable, Sendable, Equatable {
    package var groups: [String]?
    package var commit: String?

    package init(groups: [String]? = nil, commit: String? = nil) {
        self.groups = groups
        self.commit = commit
    }
}

/// The body of `POST /missions/{id}/land`.
package struct LandRequestDTO: Codable, Sendable, Equatable {
    package var onto: String

    package init(onto: String) {
        self.onto = onto
    }
}
