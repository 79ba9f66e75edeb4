import Foundation

/// Ledger failures, phrased for the person who has to deal with them.
package enum LedgerError: Error, Sendable, CustomStringConvertible {
    case unreadable(path: String, detail: String)
    case rejected(change: String, detail: String)
    case invalid(String)

    package var description: String {
        switch self {
        case .unreadable(let path, let detail):
            "cannot open the ledger \(path): \(detail); check the file's permissions, or move it away to start afresh"
        case .rejected(let change, let detail):
            "the ledger refused \(change): \(detail)"
        case .invalid(let detail):
            "the ledger is inconsistent: \(detail)"
        }
    }
}
