import FlotillaCore
import Foundation
import GRDB

/// A row of a ledger table, decoded by GRDB from its columns (snake_case), then turned into its domain record; a
/// stored value this version does not know is an error naming the row, never a plausible stand-in.
protocol LedgerRow: Decodable, FetchableRecord {
    /// The row as people find it: `missions m-12ab34cd`, `attempts of m-12ab34cd a#2`.
    var name: String { get }
}

extension LedgerRow {
    static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }

    /// The enumeration value stored in `column`, or an error that names the row and what was found.
    func known<Value: RawRepresentable & CaseIterable>(_ raw: String, _ column: String) throws -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: raw) else {
            throw LedgerError.invalid(
                "\(name): \(column) is '\(raw)', which this version does not know (one of "
                    + Value.allCases.map(\.rawValue).joined(separator: ", ")
                    + "); a newer Flotilla wrote it"
            )
        }
        return value
    }

    /// JSON stored in `column`.
    func decoded<Value: Decodable>(_ text: String, _ column: String, as type: Value.Type) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw LedgerError.invalid("\(name): \(column) is not valid JSON (\(error))")
        }
    }
}

extension Date {
    /// A date stored as seconds since 1970.
    init(ledgerSeconds seconds: Double) {
        self.init(timeIntervalSince1970: seconds)
    }
}
