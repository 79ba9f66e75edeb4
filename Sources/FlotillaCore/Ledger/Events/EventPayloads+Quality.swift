import Foundation

/// The payloads of the quality loops: the objective check and best-of-N rounds.
extension MissionEvent {
    package struct ObjectiveChecked: EventPayload {
        package struct Proposal: Codable, Sendable, Equatable {
            package var id: String
            package var title: String
            package var criteria: [String]
        }

        package static let kinds: [EventKind] = [.objectiveChecked]
        package var summary: String
        package var proposed: [Proposal]
        /// Proposed groups the limit left out.
        package var leftOut: Int
        /// Whether the proposal waits for a human (`--approve final`) instead of being added.
        package var putToHuman: Bool
        /// Nil when the model gave no usable answer.
        package var met: Bool?

        enum CodingKeys: String, CodingKey {
            case summary, proposed, met
            case leftOut = "left_out"
            case putToHuman = "put_to_human"
        }
    }

    package struct SpeculationRanked: EventPayload {
        /// A candidate as it was ranked.
        package struct Candidate: Codable, Sendable, Equatable {
            package var attempt: Int
            package var passed: Bool
            package var diffLines: Int
            package var costUSD: Double
            package var criteriaPassed: Int?
            package var reviewScore: Int?
            /// Nil for the winner.
            package var lostBecause: String?

            enum CodingKeys: String, CodingKey {
                case attempt, passed
                case diffLines = "diff_lines"
                case costUSD = "cost_usd"
                case criteriaPassed = "criteria_passed"
                case reviewScore = "review_score"
                case lostBecause = "lost_because"
            }
        }

        package static let kinds: [EventKind] = [.speculationRanked]
        package var group: String
        /// Best first: the first lands, the others lost for the reason each gives.
        package var candidates: [Candidate]
    }
}
