import Foundation

/// What a model said, once every group had landed, about whether the mission's goal is met (`--objective-check`).
package struct ObjectiveVerdict: Sendable, Equatable {
    /// Nil when the model gave no usable answer (the mission then goes on to its final verify).
    package var met: Bool?
    package var summary: String
    /// The groups it proposes to add, within the limit.
    package var proposed: [ChecklistGroup]
    /// Proposed groups the limit (`--objective-max-groups`) left out.
    package var leftOut: Int

    package init(met: Bool?, summary: String, proposed: [ChecklistGroup], leftOut: Int = 0) {
        self.met = met
        self.summary = summary
        self.proposed = proposed
        self.leftOut = leftOut
    }
}
