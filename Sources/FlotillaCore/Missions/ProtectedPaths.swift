/// Paths agents may not change, as gitignore-style patterns.
///
/// - A pattern with no `/` matches a file or directory name at any depth (`verify.sh`, `*.lock`).
/// - A pattern with a `/` is anchored at the repository root (`tests/fixtures`, `/flotilla.toml`).
/// - `*` and `?` stay within one path segment, `**` spans any number of segments, `[abc]` is a class.
/// - A pattern that matches a directory protects everything under it (`tests`, `tests/`).
package struct ProtectedPaths: Sendable, Equatable {
    package let patterns: [String]

    package init(_ patterns: [String]) {
        var seen = Set<String>()
        self.patterns = patterns.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// The first pattern protecting `path` (relative to the repository root), if any.
    package func pattern(protecting path: String) -> String? {
        let segments = path.split(separator: "/").map(String.init)
        return patterns.first { Self.matches(pattern: $0, segments: segments) }
    }

    /// The changed paths that are protected, each with the pattern that protects it.
    package func violations(in paths: [String]) -> [(path: String, pattern: String)] {
        paths.compactMap { path in pattern(protecting: path).map { (path, $0) } }
    }

    static func matches(pattern: String, segments: [String]) -> Bool {
        var pattern = pattern
        if pattern.hasSuffix("/") { pattern.removeLast() }
        let anchored = pattern.contains("/")
        if pattern.hasPrefix("/") { pattern.removeFirst() }
        let parts = pattern.split(separator: "/").map(String.init)
        guard !parts.isEmpty else { return false }
        if anchored {
            // The pattern names the path itself or one of its parent directories.
            return (1...segments.count).contains { matchSegments(parts[...], segments[..<$0]) }
        }
        return segments.contains { matchSegment(parts[0], $0) }
    }

    private static func matchSegments(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            return (path.startIndex...path.endIndex).contains { matchSegments(rest, path[$0...]) }
        }
        guard let first = path.first, matchSegment(head, first) else { return false }
        return matchSegments(pattern.dropFirst(), path.dropFirst())
    }

    /// Matches one segment against `*`, `?` and `[…]` wildcards.
    static func matchSegment(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern)
        let s = Array(name)
        var pi = 0
        var si = 0
        var starP = -1
        var starS = 0
        while si < s.count {
            if pi < p.count, p[pi] == "*" {
                starP = pi
                starS = si
                pi += 1
            } else if pi < p.count, let advance = matchOne(p, pi, s[si]) {
                pi += advance
                si += 1
            } else if starP >= 0 {
                pi = starP + 1
                starS += 1
                si = starS
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// If `p[index...]` starts with a token matching `character`, the token's length.
    private static func matchOne(_ p: [Character], _ index: Int, _ character: Character) -> Int? {
        switch p[index] {
        case "?":
            return 1
        case "[":
            guard let close = p[(index + 1)...].firstIndex(of: "]"), close > index + 1 else {
                return character == "[" ? 1 : nil
            }
            var members = Array(p[(index + 1)..<close])
            let negated = members.first == "!" || members.first == "^"
            if negated { members.removeFirst() }
            var found = false
            var i = 0
            while i < members.count {
                if i + 2 < members.count, members[i + 1] == "-" {
                    if members[i] <= character && character <= members[i + 2] { found = true }
                    i += 3
                } else {
                    if members[i] == character { found = true }
                    i += 1
                }
            }
            return found != negated ? close - index + 1 : nil
        default:
            return p[index] == character ? 1 : nil
        }
    }
}
