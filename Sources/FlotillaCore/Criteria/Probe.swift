import Foundation

/// A named measurement Flotilla runs itself (`Probe: NAME = COMMAND [file PATH] [when gate|landing|final]`), on a
/// clean checkout of the exact commit, confined like the verify, after the verify passed.
///
/// Its figures are what typed criteria (``TypedCriterion``) judge: the document its standard output holds (a JSON
/// object, else its last JSON-object line, else `key=value` or `key: value` lines with numbers), or, with `file`, the
/// file it leaves at that path of the checkout; its output is what `Event:` lines scan. Nothing an agent reports
/// about itself (`FLOTILLA_REPORT`) ever satisfies a criterion.
package struct Probe: Sendable, Equatable, Codable {
    /// When a probe runs: at each attempt's gate and again at each landing and the final verify (`gate`, the
    /// default); only at landings and the final verify (`landing`); only at the final verify (`final`).
    package enum When: String, Sendable, Equatable, Codable, CaseIterable {
        case gate, landing, final

        /// Whether a probe of this kind runs for a verification of `kind`.
        package func runs(at kind: VerificationKind) -> Bool {
            switch kind {
            case .gate: self == .gate
            case .regression: self != .final
            case .final: true
            }
        }
    }

    package var name: String
    package var command: String
    /// The path, in the checkout, of the file the probe writes its figures to; nil when it prints them.
    package var file: String?
    package var when: When

    package init(name: String, command: String, file: String? = nil, when: When = .gate) {
        self.name = name
        self.command = command
        self.file = file
        self.when = when
    }

    /// Reads `name = command [file PATH] [when WHEN]`; the error says what is wrong.
    package static func parse(_ text: String) throws(PredicateError) -> Probe {
        guard let equals = text.firstIndex(of: "=") else {
            throw PredicateError("a probe is `NAME = COMMAND`, as in `bench = ./bench/run.sh`")
        }
        let name = text[..<equals].trimmingWhitespace()
        guard isName(name) else {
            throw PredicateError("probe name `\(name)` must be letters, digits and _, starting with a letter")
        }
        var words = text[text.index(after: equals)...].trimmingWhitespace()
        if words.count >= 2, words.hasPrefix("`"), words.hasSuffix("`") {
            words = String(words.dropFirst().dropLast()).trimmingWhitespace()
        }
        var probe = Probe(name: name, command: words)
        // Trailing `when WHEN` and `file PATH`, in either order.
        for _ in 0..<2 {
            let parts = probe.command.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 3 else { break }
            let keyword = parts[parts.count - 2]
            let value = String(parts[parts.count - 1])
            let rest = parts.dropLast(2).joined(separator: " ")
            if keyword == "when" {
                guard let when = When(rawValue: value) else {
                    throw PredicateError("`when \(value)`: a probe runs when gate, landing or final")
                }
                probe.when = when
                probe.command = rest
            } else if keyword == "file" {
                guard !value.hasPrefix("/"), !value.split(separator: "/").contains(".."), !value.isEmpty else {
                    throw PredicateError("`file \(value)` must be a path inside the repository")
                }
                probe.file = value
                probe.command = rest
            }
        }
        guard !probe.command.isEmpty else { throw PredicateError("probe `\(name)` has no command") }
        return probe
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || $0 == "_" || ("0"..."9").contains($0))
        }
            && text.count <= 64
    }

    /// The line as the checklist writes it.
    package var line: String {
        "\(name) = \(command)" + (file.map { " file \($0)" } ?? "") + (when == .gate ? "" : " when \(when.rawValue)")
    }
}

/// What one run of a probe gave.
package struct ProbeRun: Sendable, Equatable, Codable {
    package var name: String
    package var exitCode: Int?
    package var timedOut: Bool
    /// The figures it gave, nil when it gave none that read.
    package var document: JSONValue?
    /// The end of its output (standard output and error), which `Event:` lines scan.
    package var output: String
    package var durationMS: Int

    package init(
        name: String,
        exitCode: Int?,
        timedOut: Bool = false,
        document: JSONValue?,
        output: String,
        durationMS: Int = 0
    ) {
        self.name = name
        self.exitCode = exitCode
        self.timedOut = timedOut
        self.document = document
        self.output = output
        self.durationMS = durationMS
    }

    enum CodingKeys: String, CodingKey {
        case name, document, output
        case exitCode = "exit_code"
        case timedOut = "timed_out"
        case durationMS = "duration_ms"
    }

    /// The most output kept per run, for `Event:` lines.
    package static let outputLimit = 4 << 20
    /// The largest document read.
    package static let documentLimit = 1 << 20

    /// The figures in a probe's output, nil when there are none.
    ///
    /// A JSON object, else its last line that is one, else `key=value` and `key: value` lines whose value is a
    /// number; hostile input is size- and depth-capped.
    package static func document(from text: String) -> JSONValue? {
        let trimmed = text.trimmingWhitespace()
        if let object = object(trimmed) { return object }
        let lines = trimmed.split(separator: "\n").map { $0.trimmingWhitespace() }
        for line in lines.reversed() where line.hasPrefix("{") {
            if let object = object(line) { return object }
        }
        var figures: [String: JSONValue] = [:]
        for line in lines {
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let key = line[..<separator].trimmingWhitespace()
            let value = line[line.index(after: separator)...].trimmingWhitespace()
            guard Probe.isName(key), let number = Double(value), number.isFinite else { continue }
            figures[key] = .number(number)
        }
        return figures.isEmpty ? nil : .object(figures)
    }

    private static func object(_ text: String) -> JSONValue? {
        let data = Data(text.utf8)
        guard text.hasPrefix("{"), data.count <= documentLimit,
            VerifyReport.depth(of: data) <= VerifyReport.maximumDepth,
            let value = try? JSONDecoder().decode(JSONValue.self, from: data), case .object = value
        else { return nil }
        return value
    }
}
