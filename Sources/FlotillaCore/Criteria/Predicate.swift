import Foundation

/// A `Predicate:` line: a small expression language of Flotilla's own over the probes' figures, never any host
/// language's `eval`.
///
/// ```
/// junit.failed == 0 and len(junit.tests) >= 40
/// all(t.ok for t in junit.tests) and bench.p95_ms < 120
/// "ready" in log.states or not (cov.lines < 85)
/// ```
/// Paths start at a probe's name (`bench.p95_ms`, `junit.tests[0].name`); literals are numbers, strings in double
/// quotes, `true`, `false` and `null`; operators `== != < <= > >= in`, `not in`, `and or not`, `+ - * /`; functions
/// `len min max sum abs all any`, and `all`, `any`, `sum`, `min`, `max` also over `EXPR for NAME in PATH [if EXPR]`.
/// It is parsed when the checklist loads (at most ``maximumNodes`` nodes, ``maximumLength`` characters) and evaluated
/// on each run's figures; whatever cannot be evaluated (a missing path, a string compared with a number) makes the
/// criterion inconclusive, never met.
package indirect enum Predicate: Sendable, Equatable {
    case literal(JSONValue)
    /// A name (a probe, or a comprehension's variable), then fields and indexes.
    case path(String, [PathStep])
    case not(Predicate)
    case negate(Predicate)
    case binary(BinaryOperator, Predicate, Predicate)
    case call(Function, [Predicate])
    /// `function(element for name in source if condition)`.
    case comprehension(Function, element: Predicate, name: String, source: Predicate, condition: Predicate?)
    case list([Predicate])

    package enum PathStep: Sendable, Equatable {
        case field(String)
        case index(Int)
    }

    package enum BinaryOperator: String, Sendable, Equatable {
        case and, or
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case `in`
        case notIn = "not in"
        case plus = "+"
        case minus = "-"
        case times = "*"
        case divided = "/"
    }

    package enum Function: String, Sendable, Equatable, CaseIterable {
        case len, min, max, sum, abs, all, any
    }

    package static let maximumNodes = 256
    package static let maximumLength = 2048

    /// Parses `text`; the error says what is wrong, for a `file:line` message.
    package static func parse(_ text: String) throws(PredicateError) -> Predicate {
        guard text.count <= maximumLength else {
            throw PredicateError("the predicate is longer than \(maximumLength) characters")
        }
        var parser = PredicateParser(tokens: try PredicateLexer.tokens(of: text))
        let predicate = try parser.expression()
        guard parser.atEnd else { throw PredicateError("unexpected \(parser.current) after a complete expression") }
        guard parser.nodes <= maximumNodes else {
            throw PredicateError("the predicate has \(parser.nodes) parts (at most \(maximumNodes))")
        }
        return predicate
    }

    /// The probes' names the predicate reads.
    package var probes: Set<String> { names(bound: []) }

    private func names(bound: Set<String>) -> Set<String> {
        switch self {
        case .literal: []
        case .path(let name, _): bound.contains(name) ? [] : [name]
        case .not(let inner), .negate(let inner): inner.names(bound: bound)
        case .binary(_, let left, let right): left.names(bound: bound).union(right.names(bound: bound))
        case .call(_, let arguments), .list(let arguments):
            arguments.reduce(into: Set<String>()) { $0.formUnion($1.names(bound: bound)) }
        case .comprehension(_, let element, let name, let source, let condition):
            source.names(bound: bound)
                .union(element.names(bound: bound.union([name])))
                .union(condition?.names(bound: bound.union([name])) ?? [])
        }
    }
}

/// Why a predicate does not parse, or cannot be evaluated.
package struct PredicateError: Error, Sendable, Equatable, CustomStringConvertible {
    package var description: String

    package init(_ description: String) { self.description = description }
}

// MARK: - Lexing

enum PredicateToken: Equatable, CustomStringConvertible {
    case number(Double)
    case string(String)
    case name(String)
    case symbol(String)
    case end

    var description: String {
        switch self {
        case .number(let value): "\(value)"
        case .string(let text): "\"\(text)\""
        case .name(let name): "`\(name)`"
        case .symbol(let symbol): "`\(symbol)`"
        case .end: "the end"
        }
    }
}

enum PredicateLexer {
    static func tokens(of text: String) throws(PredicateError) -> [PredicateToken] {
        let characters = Array(text.unicodeScalars)
        var tokens: [PredicateToken] = []
        var index = 0
        func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || (c.isASCII && c.properties.isAlphabetic) }
        func isNamePart(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || ("0"..."9").contains(c) }
        // After a name, `]` or `)`, a `.` reads a field (`a.0`), never starts a number.
        func afterValue() -> Bool {
            switch tokens.last {
            case .name?, .symbol("]")?, .symbol(")")?: true
            default: false
            }
        }
        while index < characters.count {
            let c = characters[index]
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                index += 1
            } else if ("0"..."9").contains(c)
                || (c == "." && !afterValue() && index + 1 < characters.count
                    && ("0"..."9").contains(characters[index + 1]))
            {
                var end = index
                while end < characters.count,
                    ("0"..."9").contains(characters[end]) || characters[end] == "." || characters[end] == "e"
                        || characters[end] == "E"
                        || ((characters[end] == "-" || characters[end] == "+") && end > index
                            && (characters[end - 1] == "e" || characters[end - 1] == "E"))
                {
                    end += 1
                }
                let literal = String(String.UnicodeScalarView(characters[index..<end]))
                guard let value = Double(literal), value.isFinite else {
                    throw PredicateError("`\(literal)` is not a number")
                }
                tokens.append(.number(value))
                index = end
            } else if c == "\"" {
                var text = ""
                var end = index + 1
                var closed = false
                while end < characters.count {
                    let d = characters[end]
                    if d == "\\", end + 1 < characters.count {
                        text.unicodeScalars.append(characters[end + 1])
                        end += 2
                        continue
                    }
                    if d == "\"" {
                        closed = true
                        break
                    }
                    text.unicodeScalars.append(d)
                    end += 1
                }
                guard closed else { throw PredicateError("a string is not closed with \"") }
                tokens.append(.string(text))
                index = end + 1
            } else if isNameStart(c) {
                var end = index
                while end < characters.count, isNamePart(characters[end]) { end += 1 }
                tokens.append(.name(String(String.UnicodeScalarView(characters[index..<end]))))
                index = end
            } else {
                let two = index + 1 < characters.count ? String(c) + String(characters[index + 1]) : ""
                if ["==", "!=", "<=", ">="].contains(two) {
                    tokens.append(.symbol(two))
                    index += 2
                } else if "<>()[],.+-*/".unicodeScalars.contains(c) {
                    tokens.append(.symbol(String(c)))
                    index += 1
                } else {
                    throw PredicateError("unexpected character `\(c)`")
                }
            }
        }
        tokens.append(.end)
        return tokens
    }
}

// MARK: - Parsing

struct PredicateParser {
    let tokens: [PredicateToken]
    var position = 0
    /// Nodes made so far, against ``Predicate/maximumNodes``.
    var nodes = 0
    /// Nesting of parentheses and calls, bounded so that no input overflows the stack.
    var depth = 0

    init(tokens: [PredicateToken]) { self.tokens = tokens }

    var current: PredicateToken { tokens[min(position, tokens.count - 1)] }
    var atEnd: Bool { current == .end }

    mutating func advance() { position += 1 }

    mutating func node(_ predicate: Predicate) throws(PredicateError) -> Predicate {
        nodes += 1
        guard nodes <= Predicate.maximumNodes else {
            throw PredicateError("the predicate has more than \(Predicate.maximumNodes) parts")
        }
        return predicate
    }

    mutating func take(_ symbol: String) -> Bool {
        if current == .symbol(symbol) || current == .name(symbol) {
            advance()
            return true
        }
        return false
    }

    mutating func expect(_ symbol: String) throws(PredicateError) {
        guard take(symbol) else { throw PredicateError("expected `\(symbol)`, found \(current)") }
    }

    mutating func expression() throws(PredicateError) -> Predicate {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 32 else { throw PredicateError("the predicate nests more than 32 levels") }
        var left = try conjunction()
        while take("or") { left = try node(.binary(.or, left, try conjunction())) }
        return left
    }

    mutating func conjunction() throws(PredicateError) -> Predicate {
        var left = try negation()
        while take("and") { left = try node(.binary(.and, left, try negation())) }
        return left
    }

    mutating func negation() throws(PredicateError) -> Predicate {
        if take("not") { return try node(.not(try negation())) }
        return try comparison()
    }

    mutating func comparison() throws(PredicateError) -> Predicate {
        let left = try additive()
        let operators: [Predicate.BinaryOperator] = [.equal, .notEqual, .lessOrEqual, .greaterOrEqual, .less, .greater]
        for op in operators where take(op.rawValue) { return try node(.binary(op, left, try additive())) }
        if take("in") { return try node(.binary(.in, left, try additive())) }
        if current == .name("not"), tokens.indices.contains(position + 1), tokens[position + 1] == .name("in") {
            position += 2
            return try node(.binary(.notIn, left, try additive()))
        }
        return left
    }

    mutating func additive() throws(PredicateError) -> Predicate {
        var left = try multiplicative()
        while true {
            if take("+") {
                left = try node(.binary(.plus, left, try multiplicative()))
            } else if take("-") {
                left = try node(.binary(.minus, left, try multiplicative()))
            } else {
                return left
            }
        }
    }

    mutating func multiplicative() throws(PredicateError) -> Predicate {
        var left = try unary()
        while true {
            if take("*") {
                left = try node(.binary(.times, left, try unary()))
            } else if take("/") {
                left = try node(.binary(.divided, left, try unary()))
            } else {
                return left
            }
        }
    }

    mutating func unary() throws(PredicateError) -> Predicate {
        if take("-") { return try node(.negate(try unary())) }
        return try primary()
    }

    mutating func primary() throws(PredicateError) -> Predicate {
        switch current {
        case .number(let value):
            advance()
            return try node(.literal(.number(value)))
        case .string(let text):
            advance()
            return try node(.literal(.string(text)))
        case .symbol("("):
            advance()
            let inner = try expression()
            try expect(")")
            return inner
        case .symbol("["):
            advance()
            var items: [Predicate] = []
            if !take("]") {
                repeat { items.append(try expression()) } while take(",")
                try expect("]")
            }
            return try node(.list(items))
        case .name(let name):
            advance()
            switch name {
            case "true": return try node(.literal(.bool(true)))
            case "false": return try node(.literal(.bool(false)))
            case "null": return try node(.literal(.null))
            case "and", "or", "not", "in", "for", "if":
                throw PredicateError("`\(name)` cannot start an expression")
            default: break
            }
            if current == .symbol("(") {
                guard let function = Predicate.Function(rawValue: name) else {
                    throw PredicateError(
                        "`\(name)` is not a function here (there are "
                            + Predicate.Function.allCases.map(\.rawValue).joined(separator: ", ") + ")"
                    )
                }
                advance()
                return try call(function)
            }
            return try path(name)
        default:
            throw PredicateError("expected a value, found \(current)")
        }
    }

    mutating func call(_ function: Predicate.Function) throws(PredicateError) -> Predicate {
        depth += 1
        defer { depth -= 1 }
        if take(")") { return try node(.call(function, [])) }
        let first = try expression()
        if take("for") {
            guard [.all, .any, .sum, .min, .max].contains(function) else {
                throw PredicateError("`\(function.rawValue)` does not take `for`")
            }
            guard case .name(let variable) = current else { throw PredicateError("expected a name after `for`") }
            advance()
            try expect("in")
            let source = try additive()
            let condition = take("if") ? try expression() : nil
            try expect(")")
            return try node(
                .comprehension(function, element: first, name: variable, source: source, condition: condition)
            )
        }
        var arguments = [first]
        while take(",") { arguments.append(try expression()) }
        try expect(")")
        return try node(.call(function, arguments))
    }

    mutating func path(_ name: String) throws(PredicateError) -> Predicate {
        var steps: [Predicate.PathStep] = []
        while true {
            if take(".") {
                switch current {
                case .name(let field): steps.append(.field(field))
                case .number(let value) where value == value.rounded() && value >= 0:
                    // `a.0` reads as a field named "0", as JSON keys may be digits.
                    steps.append(.field(String(Int(value))))
                default: throw PredicateError("expected a field name after `.`, found \(current)")
                }
                advance()
            } else if current == .symbol("[") {
                advance()
                guard case .number(let value) = current, value == value.rounded(), value >= 0, value < 1e9 else {
                    throw PredicateError("expected an index (0, 1, …) in `[ ]`, found \(current)")
                }
                advance()
                try expect("]")
                steps.append(.index(Int(value)))
            } else {
                return try node(.path(name, steps))
            }
        }
    }
}
