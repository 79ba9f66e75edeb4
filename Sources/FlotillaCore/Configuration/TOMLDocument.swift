import Foundation

/// The subset of TOML that Flotilla's configuration files use.
///
/// `[table]` and `[table."quoted key"]` headers,
/// `key = value` with basic and literal strings, integers, floats, booleans and arrays of those (over several
/// lines if need be), and `#` comments. Anything else is an error naming the file and line.
package struct TOMLDocument: Sendable, Equatable {
    /// Tables by dotted path (`""` for the top level), each key with its value and line.
    package var tables: [String: [String: Entry]]
    /// The line each table header is on.
    package var tableLines: [String: Int]

    package struct Entry: Sendable, Equatable {
        package var value: JSONValue
        package var line: Int

        package init(value: JSONValue, line: Int) {
            self.value = value
            self.line = line
        }
    }

    package static func parse(_ text: String, file: String) throws(ConfigurationError) -> TOMLDocument {
        var parser = Parser(
            lines: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
            file: file
        )
        return try parser.document()
    }
}

/// A bad configuration file or value: one line naming the file, the line when known, and the key.
package struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    package var file: String
    package var line: Int?
    package var message: String

    package init(file: String, line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    package var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

private struct Parser {
    let lines: [String]
    let file: String
    var index = 0

    init(lines: [String], file: String) {
        self.lines = lines
        self.file = file
    }

    func fail(_ message: String, line: Int? = nil) -> ConfigurationError {
        ConfigurationError(file: file, line: line ?? index + 1, message)
    }

    mutating func document() throws(ConfigurationError) -> TOMLDocument {
        var document = TOMLDocument(tables: ["": [:]], tableLines: ["": 0])
        var current = ""
        while index < lines.count {
            let line = stripComment(lines[index]).trimmingCharacters(in: .whitespaces)
            defer { index += 1 }
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), !line.hasPrefix("[[") else {
                    throw fail("a table header is `[name]` (arrays of tables are not supported)")
                }
                let path = try keyPath(String(line.dropFirst().dropLast()))
                guard document.tables[path] == nil || path.isEmpty else { throw fail("table [\(path)] appears twice") }
                document.tables[path] = [:]
                document.tableLines[path] = index + 1
                current = path
                continue
            }
            guard let equals = firstUnquoted("=", in: line) else { throw fail("expected `key = value`") }
            let key = try keyPath(String(line[..<equals]))
            let start = index + 1
            var rest = String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            // An array may continue over the next lines until its brackets balance.
            while rest.hasPrefix("[") && !bracketsBalance(rest) && index + 1 < lines.count {
                index += 1
                rest += " " + stripComment(lines[index]).trimmingCharacters(in: .whitespaces)
            }
            var cursor = rest.startIndex
            let value = try self.value(rest, &cursor, line: start)
            guard rest[cursor...].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw fail("unexpected text after the value of \(key)", line: start)
            }
            guard document.tables[current]?[key] == nil else { throw fail("\(key) is set twice", line: start) }
            document.tables[current, default: [:]][key] = TOMLDocument.Entry(value: value, line: start)
        }
        return document
    }

    /// A dotted key path with bare or quoted parts, rejoined with dots (quoted parts keep their dots escaped away).
    func keyPath(_ text: String) throws(ConfigurationError) -> String {
        var parts: [String] = []
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        while !rest.isEmpty {
            if rest.first == "\"" || rest.first == "'" {
                let quote = rest.first ?? "\""
                guard let close = rest.dropFirst().firstIndex(of: quote) else { throw fail("unterminated quoted key") }
                parts.append(String(rest[rest.index(after: rest.startIndex)..<close]))
                rest = rest[rest.index(after: close)...]
            } else {
                let part = rest.prefix { $0 != "." }.trimmingCharacters(in: .whitespaces)
                guard !part.isEmpty, part.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw fail("`\(text)` is not a valid key")
                }
                parts.append(part)
                rest = rest.dropFirst(rest.prefix { $0 != "." }.count)
            }
            rest = Substring(rest.trimmingCharacters(in: .whitespaces))
            if rest.first == "." { rest = Substring(rest.dropFirst().trimmingCharacters(in: .whitespaces)) }
        }
        guard !parts.isEmpty else { throw fail("empty key") }
        return parts.joined(separator: ".")
    }

    func value(_ text: String, _ cursor: inout String.Index, line: Int) throws(ConfigurationError) -> JSONValue {
        skipSpaces(text, &cursor)
        guard cursor < text.endIndex else { throw fail("missing value", line: line) }
        switch text[cursor] {
        case "\"":
            cursor = text.index(after: cursor)
            var result = ""
            while cursor < text.endIndex {
                let character = text[cursor]
                cursor = text.index(after: cursor)
                if character == "\"" { return .string(result) }
                if character == "\\" {
                    guard cursor < text.endIndex else { break }
                    let escaped = text[cursor]
                    cursor = text.index(after: cursor)
                    switch escaped {
                    case "n": result.append("\n")
                    case "t": result.append("\t")
                    case "\"": result.append("\"")
                    case "\\": result.append("\\")
                    default: throw fail("unsupported escape \\\(escaped)", line: line)
                    }
                } else {
                    result.append(character)
                }
            }
            throw fail("unterminated string", line: line)
        case "'":
            let start = text.index(after: cursor)
            guard let close = text[start...].firstIndex(of: "'") else { throw fail("unterminated string", line: line) }
            cursor = text.index(after: close)
            return .string(String(text[start..<close]))
        case "[":
            cursor = text.index(after: cursor)
            var items: [JSONValue] = []
            while true {
                skipSpaces(text, &cursor)
                guard cursor < text.endIndex else { throw fail("unterminated array", line: line) }
                if text[cursor] == "]" {
                    cursor = text.index(after: cursor)
                    return .array(items)
                }
                items.append(try value(text, &cursor, line: line))
                skipSpaces(text, &cursor)
                if cursor < text.endIndex && text[cursor] == "," { cursor = text.index(after: cursor) }
            }
        default:
            let token = text[cursor...].prefix { !$0.isWhitespace && $0 != "," && $0 != "]" }
            cursor = text.index(cursor, offsetBy: token.count)
            switch token {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default:
                guard let number = Double(token.replacingOccurrences(of: "_", with: "")) else {
                    throw fail("`\(token)` is not a value (strings need quotes)", line: line)
                }
                return .number(number)
            }
        }
    }

    func skipSpaces(_ text: String, _ cursor: inout String.Index) {
        while cursor < text.endIndex && text[cursor].isWhitespace { cursor = text.index(after: cursor) }
    }

    func stripComment(_ line: String) -> String {
        firstUnquoted("#", in: line).map { String(line[..<$0]) } ?? line
    }

    func firstUnquoted(_ target: Character, in line: String) -> String.Index? {
        var quote: Character?
        var escaped = false
        for index in line.indices {
            let character = line[index]
            if let open = quote {
                if escaped {
                    escaped = false
                } else if character == "\\" && open == "\"" {
                    escaped = true
                } else if character == open {
                    quote = nil
                }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == target {
                return index
            }
        }
        return nil
    }

    func bracketsBalance(_ text: String) -> Bool {
        var depth = 0
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "[" {
                depth += 1
            } else if character == "]" {
                depth -= 1
            }
        }
        return depth <= 0
    }
}
