import Foundation

/// The payloads of landings: a round started, verified, landed or sent back, and refs that moved.
extension MissionEvent {
    package struct MergeStarted: EventPayload {
        package static let kinds: [EventKind] = [.mergeStarted]
        package var targetHead: String
        package var attempts: [String]

        enum CodingKeys: String, CodingKey {
            case attempts
            case targetHead = "target_head"
        }
    }

    /// The regression verify passed on the merged commit; the branch moves next.
    package struct LandingVerified: EventPayload {
        package static let kinds: [EventKind] = [.landingVerified]
        package var regression: Verified
        package var attempts: [String]

        enum CodingKeys: String, CodingKey { case attempts }

        package init(regression: Verified, attempts: [String]) {
            self.regression = regression
            self.attempts = attempts
        }

        package init(from decoder: any Decoder) throws {
            regression = try Verified(from: decoder)
            attempts = try decoder.container(keyedBy: CodingKeys.self).decode([String].self, forKey: .attempts)
        }

        package func encode(to encoder: any Encoder) throws {
            try regression.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(attempts, forKey: .attempts)
        }
    }

    package struct AttemptLanded: EventPayload {
        package static let kinds: [EventKind] = [.attemptLanded]
        package var regression: Verified
        package var landedCommit: String
        package var attempts: [String]

        enum CodingKeys: String, CodingKey {
            case attempts
            case landedCommit = "landed_commit"
        }

        package init(regression: Verified, landedCommit: String, attempts: [String]) {
            self.regression = regression
            self.landedCommit = landedCommit
            self.attempts = attempts
        }

        package init(from decoder: any Decoder) throws {
            regression = try Verified(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            landedCommit = try container.decode(String.self, forKey: .landedCommit)
            attempts = try container.decode([String].self, forKey: .attempts)
        }

        package func encode(to encoder: any Encoder) throws {
            try regression.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(landedCommit, forKey: .landedCommit)
            try container.encode(attempts, forKey: .attempts)
        }
    }

    package struct MergeRequeued: EventPayload {
        package static let kinds: [EventKind] = [.mergeRequeued]
        /// The failed verify when their round's failed and they are tried apart.
        package var verification: Verified?
        package var attempts: [String]
        package var reason: String

        enum CodingKeys: String, CodingKey { case attempts, reason, kind }

        package init(verification: Verified?, attempts: [String], reason: String) {
            self.verification = verification
            self.attempts = attempts
            self.reason = reason
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            verification = container.contains(.kind) ? try Verified(from: decoder) : nil
            attempts = try container.decode([String].self, forKey: .attempts)
            reason = try container.decode(String.self, forKey: .reason)
        }

        package func encode(to encoder: any Encoder) throws {
            try verification?.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(attempts, forKey: .attempts)
            try container.encode(reason, forKey: .reason)
        }
    }

    package struct RefsRestored: EventPayload {
        package struct Ref: Codable, Sendable, Equatable {
            package var ref: String
            package var foreign: String
            package var restoredTo: String
            package var quarantine: String

            enum CodingKeys: String, CodingKey {
                case ref, foreign, quarantine
                case restoredTo = "restored_to"
            }
        }

        package static let kinds: [EventKind] = [.refsRestored]
        package var reason: String
        package var refs: [Ref]
    }

    package struct TestsBaseline: EventPayload {
        package static let kinds: [EventKind] = [.testsBaseline]
        package var tests: [TestEvidence]
    }

    package struct ProbesBaseline: EventPayload {
        package static let kinds: [EventKind] = [.probesBaseline]
        /// `probe.figure` → its value at the base commit; a figure the base could not give is missing.
        package var figures: [String: Double]
    }

    /// `flotilla check`: the verify and the probes on a commit, judged without changing the mission.
    package struct CriteriaChecked: EventPayload {
        package static let kinds: [EventKind] = [.criteriaChecked]
        package var commit: String
        package var groups: [String]
        package var passed: Bool
        package var results: [CriterionResult]
    }

    package struct RefsMoved: EventPayload {
        package struct Ref: Codable, Sendable, Equatable {
            package var ref: String
            /// Null for a new ref.
            package var from: String?
            /// Null for a deleted one.
            package var to: String?

            package func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(ref, forKey: .ref)
                try container.encode(from, forKey: .from)
                try container.encode(to, forKey: .to)
            }
        }

        package static let kinds: [EventKind] = [.refsMoved]
        /// The attempts that ran meanwhile.
        package var attempts: [String]
        package var refs: [Ref]
    }
}
