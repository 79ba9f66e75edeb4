extension String {
    /// The string without leading and trailing spaces, tabs and line breaks.
    package func trimmingWhitespace() -> String {
        // Characters, not a string literal: "\r\n" in a literal is one grapheme and would hide "\n".
        trimming(Self.whitespace)
    }

    private static let whitespace: Set<Character> = [" ", "\t", "\n", "\r", "\r\n"]

    /// The string without leading and trailing characters from `set`.
    package func trimmingCharacters(in set: String) -> String {
        trimming(Set(set))
    }

    private func trimming(_ characters: Set<Character>) -> String {
        guard let start = firstIndex(where: { !characters.contains($0) }),
            let end = lastIndex(where: { !characters.contains($0) })
        else { return "" }
        return String(self[start...end])
    }

    /// The string without blank lines at its start and end; lines keep their indentation.
    package func trimmingBlankLines() -> String {
        var lines = split(separator: "\n", omittingEmptySubsequences: false)
        while let first = lines.first, first.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) {
            lines.removeFirst()
        }
        while let last = lines.last, last.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) {
            lines.removeLast()
        }
        return lines.joined(separator: "\n")
    }

    /// The last `limit` UTF-8 bytes, starting at a character boundary.
    package func utf8Tail(_ limit: Int) -> String {
        let bytes = Array(utf8)
        guard bytes.count > limit else { return self }
        var start = bytes.count - limit
        while start < bytes.count, bytes[start] & 0b1100_0000 == 0b1000_0000 { start += 1 }
        return String(decoding: bytes[start...], as: UTF8.self)
    }
}

extension Substring {
    /// The text without leading and trailing spaces, tabs and line breaks.
    package func trimmingWhitespace() -> String { String(self).trimmingWhitespace() }
}
