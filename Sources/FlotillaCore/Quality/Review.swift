import Foundation

/// What a review of a verified attempt may do (`--review`).
package enum ReviewMode: String, Sendable, Codable, CaseIterable {
    case none
    /// Scored and recorded; the attempt lands whatever the score.
    case advise
    /// A score under the threshold sends the attempt back with the review as its feedback.
    case block
}

/// A reviewer's verdict on a verified attempt.
package struct ReviewVerdict: Sendable, Equatable, Codable {
    /// Of 10; nil when the reviewer gave no usable answer (it then blocks nothing).
    package var score: Int?
    package var threshold: Int
    package var blocks: Bool
    package var summary: String
    package var concerns: [String]

    package init(score: Int?, threshold: Int, blocks: Bool, summary: String, concerns: [String]) {
        self.score = score
        self.threshold = threshold
        self.blocks = blocks
        self.summary = summary
        self.concerns = concerns
    }
}
