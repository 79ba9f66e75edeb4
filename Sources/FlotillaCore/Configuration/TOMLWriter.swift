import Foundation

/// Writes configuration files in the TOML subset ``TOMLDocument`` reads (what `flotilla init` produces).
package struct TOMLWriter: Sendable {
    private var lines: [String]

    /// Starts a file with `header` as comment lines.
    package init(header: [String] = []) {
        lines = header.map { "# " + $0 }
    }

    /// Adds `[name]` with its entries, in order; a table without entries is left out.
    package mutating func table(_ name: String, _ entries: [(key: String, value: JSONValue)]) {
        guard !entries.isEmpty else { return }
        if !lines.isEmpty { lines.append("") }
        lines.append("[\(name)]")
        for entry in entries { lines.append("\(entry.key) = \(Self.literal(entry.value))") }
    }

    package var text: String { lines.joined(separator: "\n") + "\n" }

    /// A value as TOML: strings literal (`'…'`) when that needs no escapes, else basic with escapes.
    package static func literal(_ value: JSONValue) -> String {
        switch value {
        case .string(let text):
            if !text.contains("'") && !text.contains("\n") && !text.contains("\t") { return "'\(text)'" }
            let escaped =
                text
                .replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
                .replacingOccurrences(of: "\t", with: "\\t")
            return "\"\(escaped)\""
        case .number(let number):
            return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .array(let items): return "[" + items.map(literal).joined(separator: ", ") + "]"
        case .null, .object: return "''"
        }
    }
}
