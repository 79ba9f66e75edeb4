import Foundation

/// Identifies one attempt: the `number`th attempt on `group` (1 for the first).
package struct AttemptKey: Hashable, Sendable, Codable, CustomStringConvertible {
    package var group: String
    package var number: Int

    package init(group: String, number: Int) {
        self.group = group
        self.number = number
    }

    /// `group#2`, as shown to people.
    package var description: String { "\(group)#\(number)" }

    /// `group-2`, as used in file and branch names.
    package var slug: String { "\(group)-\(number)" }
}
