import Foundation

/// The payloads of an attempt's events, from its start to its end.
extension MissionEvent {
    package struct AttemptStarted: EventPayload {
        package static let kinds: [EventKind] = [.attemptStarted]
        package var slot: Int
        package var sequence: Int
        package var startCommit: String
        package var branch: String
        /// How its session and gate were confined; null for attempts from before sandboxes were recorded.
        package var sandbox: String?

        enum CodingKeys: String, CodingKey {
            case slot, sequence, branch, sandbox
            case startCommit = "start_commit"
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(slot, forKey: .slot)
            try container.encode(sequence, forKey: .sequence)
            try container.encode(startCommit, forKey: .startCommit)
            try container.encode(branch, forKey: .branch)
            // Always present, null when unknown.
            try container.encode(sandbox, forKey: .sandbox)
        }
    }

    package struct AgentFinished: EventPayload {
        package static let kinds: [EventKind] = [.agentFinished]
        package var durationMS: Int64
        package var costUSD: Double
        package var timedOut: Bool
        package var inputTokens: Int
        package var outputTokens: Int
        package var exitCode: Int?
        package var failure: String?
        /// The backend that ran the session, when not the mission's own (a fallback took over).
        package var backend: String?

        enum CodingKeys: String, CodingKey {
            case failure, backend
            case durationMS = "duration_ms"
            case costUSD = "cost_usd"
            case timedOut = "timed_out"
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
            case exitCode = "exit_code"
        }
    }

    package struct AttemptCommitted: EventPayload {
        package static let kinds: [EventKind] = [.attemptCommitted]
        /// Nil when the agent changed nothing.
        package var commit: String?
        package var files: Int?
        package var insertions: Int?
        package var deletions: Int?
    }

    package struct TestEditsReverted: EventPayload {
        package static let kinds: [EventKind] = [.testEditsReverted]
        package var paths: [String]
    }

    package struct NewTestsDeferred: EventPayload {
        package static let kinds: [EventKind] = [.newTestsDeferred]
        package var paths: [String]
    }

    package struct ToolSettingsRestored: EventPayload {
        package static let kinds: [EventKind] = [.toolSettingsRestored]
        package var paths: [String]
    }

    /// A verification: an attempt's gate, or the final verify.
    package struct Verified: EventPayload {
        package static let kinds: [EventKind] = [.gatePassed, .gateFailed, .finalVerify]
        package var kind: VerificationKind
        package var commit: String
        package var passed: Bool
        package var durationMS: Int64
        package var groups: [String]
        package var landedGroupsChecked: Int
        package var exitCode: Int?
        /// What the test runners did, where Flotilla saw them (absent otherwise).
        package var tests: [TestEvidence]?

        enum CodingKeys: String, CodingKey {
            case kind, commit, passed, groups, tests
            case durationMS = "duration_ms"
            case landedGroupsChecked = "landed_groups_checked"
            case exitCode = "exit_code"
        }

        package init(_ verification: Verification) {
            kind = verification.kind
            commit = verification.commit
            passed = verification.passed
            durationMS = verification.duration.milliseconds
            groups = verification.groups
            landedGroupsChecked = verification.landedGroupsChecked
            exitCode = verification.exitCode
            tests = verification.tests
        }
    }

    package struct AttemptFailed: EventPayload {
        package static let kinds: [EventKind] = [.attemptFailed]
        package var outcome: AttemptOutcome
        package var reason: String
        package var groupStatus: GroupStatus
        package var stalledAttempts: Int?
        package var escalation: Escalation?
        /// Dependents blocked with the group, when it was blocked.
        package var blockedDependents: [String]?

        enum CodingKeys: String, CodingKey {
            case outcome, reason, escalation
            case groupStatus = "group_status"
            case stalledAttempts = "stalled_attempts"
            case blockedDependents = "blocked_dependents"
        }
    }

    package struct ReviewScored: EventPayload {
        package static let kinds: [EventKind] = [.reviewScored]
        package var threshold: Int
        package var blocks: Bool
        package var summary: String
        package var concerns: [String]
        /// Of 10; nil when the reviewer gave no usable answer.
        package var score: Int?
    }
}
