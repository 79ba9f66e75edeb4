import Foundation

/// What a verify command may write at `FLOTILLA_REPORT`:
/// `{"groups": {"<id>": {"passed": bool, "criteria": {…}}}, "metrics": {…}}`.
///
/// The report is the verify command's, and the verify command runs code agents wrote: it is read as hostile input.
/// Only its shape is taken, never its verdict (the exit status decides), and a report that is too large, too deep
/// or not JSON is ignored.
package struct VerifyReport: Sendable, Equatable {
    /// The largest report read.
    package static let maximumBytes = 4 << 20
    /// The deepest nesting kept; deeper reports are ignored.
    package static let maximumDepth = 64

    package var groups: [String: JSONValue]
    package var metrics: JSONValue?

    package init(groups: [String: JSONValue] = [:], metrics: JSONValue? = nil) {
        self.groups = groups
        self.metrics = metrics
    }

    /// Reads a report; nil when it is not a JSON object within the limits.
    package static func read(_ data: Data) -> VerifyReport? {
        guard data.count <= maximumBytes, Self.depth(of: data) <= maximumDepth,
            case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { return nil }
        var report = VerifyReport(metrics: object["metrics"])
        if case .object(let groups)? = object["groups"] { report.groups = groups }
        return report
    }

    /// The deepest bracket nesting in JSON text, counted without parsing (strings skipped), so that a deeply
    /// nested report is refused before any recursive decoder sees it.
    static func depth(of data: Data) -> Int {
        var depth = 0
        var deepest = 0
        var inString = false
        var escaped = false
        for byte in data {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        return deepest
    }
}
