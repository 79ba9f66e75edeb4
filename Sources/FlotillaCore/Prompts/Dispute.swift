import Foundation

/// An agent's honest way out: it says a criterion cannot be met as written, instead of gaming the tests.
///
/// The agent writes the reason to ``fileName`` at the root of its checkout, or ends its answer with a line that starts
/// with ``marker``. The attempt then ends `disputed`: it never counts as a pass, and its group waits for a person.
package enum Dispute {
    package static let fileName = ".flotilla-dispute"
    package static let marker = "DISPUTE:"
    /// The most of a reason kept.
    package static let reasonLimit = 2_000

    /// The reason in an agent's final answer: the text after the last line that starts with ``marker``.
    package static func reason(inAnswer answer: String?) -> String? {
        guard let answer else { return nil }
        let line = answer.split(separator: "\n").last {
            $0.trimmingCharacters(in: .whitespaces).hasPrefix(marker)
        }
        return line.flatMap { reason(String($0.trimmingCharacters(in: .whitespaces).dropFirst(marker.count))) }
    }

    /// A reason as kept: trimmed, bounded, nil when empty.
    package static func reason(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : String(trimmed.prefix(reasonLimit))
    }
}
