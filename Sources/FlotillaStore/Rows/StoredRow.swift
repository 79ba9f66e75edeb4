import FlotillaCore
import Foundation
import GRDB

/// A ledger row read strictly: a column of the wrong type, a NULL where a value is required, an enumeration value
/// this version does not know or malformed JSON is an error naming the row, never a plausible stand-in.
struct StoredRow {
    let row: Row
    /// The row as people find it: `missions m-12ab34cd`, `attempts of m-12ab34cd a#2`.
    let name: String

    init(_ row: Row, table: String, key: (Row) -> String) {
        self.row = row
        self.name = "\(table) \(key(row))"
    }

    /// The text of `column`, for naming a row (never fails).
    static func text(_ row: Row, _ column: String) -> String {
        (try? row.decode(String?.self, forColumn: column)).flatMap { $0 } ?? "?"
    }

    /// The value of `column`, as its type says (an optional type for a column that may be NULL).
    func callAsFunction<Value: DatabaseValueConvertible>(
        _ column: String,
        as type: Value.Type = Value.self
    ) throws
        -> Value
    {
        do {
            return try row.decode(type, forColumn: column)
        } catch {
            throw LedgerError.invalid("\(name): \(column): \(error)")
        }
    }

    /// The enumeration value stored in `column`.
    func known<Value: RawRepresentable & CaseIterable>(_ column: String) throws -> Value
    where Value.RawValue == String {
        try known(column, raw: self(column))
    }

    /// The enumeration value stored in `column`, or nil where it is NULL.
    func knownIfPresent<Value: RawRepresentable & CaseIterable>(_ column: String) throws -> Value?
    where Value.RawValue == String {
        try (self(column) as String?).map { try known(column, raw: $0) }
    }

    private func known<Value: RawRepresentable & CaseIterable>(_ column: String, raw: String) throws -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: raw) else {
            throw LedgerError.invalid(
                "\(name): \(column) is '\(raw)', which this version does not know (one of "
                    + Value.allCases.map(\.rawValue).joined(separator: ", ") + "); a newer Flotilla wrote it"
            )
        }
        return value
    }

    /// The JSON value stored in `column`.
    func json<Value: Decodable>(_ column: String, as type: Value.Type = Value.self) throws -> Value {
        try decodeJSON(self(column), column)
    }

    /// The JSON value stored in `column`, or nil where it is NULL.
    func jsonIfPresent<Value: Decodable>(_ column: String, as type: Value.Type = Value.self) throws -> Value? {
        try (self(column) as String?).map { try decodeJSON($0, column) }
    }

    private func decodeJSON<Value: Decodable>(_ text: String, _ column: String) throws -> Value {
        do {
            return try JSONDecoder().decode(Value.self, from: Data(text.utf8))
        } catch {
            throw LedgerError.invalid("\(name): \(column) is not valid JSON (\(error))")
        }
    }

    /// A date stored as seconds since 1970.
    func date(_ column: String) throws -> Date {
        Date(timeIntervalSince1970: try self(column))
    }

    /// A date stored as seconds since 1970, or nil where it is NULL.
    func dateIfPresent(_ column: String) throws -> Date? {
        try (self(column) as Double?).map(Date.init(timeIntervalSince1970:))
    }

    /// The attempt a `verifications` or `model_calls` row is about, if any.
    func attempt() throws -> AttemptKey? {
        guard let group: String = try self("group_id"), let number: Int = try self("attempt_number") else { return nil }
        return AttemptKey(group: group, number: number)
    }

    /// Tokens and dollars of an `attempts` or `model_calls` row.
    func usage() throws -> Usage {
        Usage(
            inputTokens: try self("input_tokens"),
            outputTokens: try self("output_tokens"),
            cacheReadTokens: try self("cache_read_tokens"),
            cacheWriteTokens: try self("cache_write_tokens"),
            costUSD: try self("cost_usd")
        )
    }
}
