import Foundation

extension Predicate {
    /// The value of the expression over `figures` (each probe's document by its name); an error when a path is
    /// missing or a value has the wrong type, which makes the criterion inconclusive.
    package func evaluate(_ figures: [String: JSONValue]) throws(PredicateError) -> JSONValue {
        var budget = Self.maximumSteps
        return try evaluate(figures, budget: &budget)
    }

    /// Whether the expression holds; an error when it is not `true` or `false`.
    package func holds(_ figures: [String: JSONValue]) throws(PredicateError) -> Bool {
        guard case .bool(let value) = try evaluate(figures) else {
            throw PredicateError("the predicate is not true or false")
        }
        return value
    }

    /// How many values one evaluation may visit: comprehensions over large documents stay bounded.
    static let maximumSteps = 1_000_000

    private func evaluate(_ scope: [String: JSONValue], budget: inout Int) throws(PredicateError) -> JSONValue {
        budget -= 1
        guard budget > 0 else { throw PredicateError("the predicate took too many steps") }
        switch self {
        case .literal(let value):
            return value
        case .path(let name, let steps):
            guard var value = scope[name] else { throw PredicateError("no probe or name `\(name)`") }
            var shown = name
            for step in steps {
                switch (step, value) {
                case (.field(let field), .object(let object)):
                    shown += "." + field
                    guard let next = object[field] else { throw PredicateError("`\(shown)` is missing") }
                    value = next
                case (.index(let index), .array(let array)):
                    shown += "[\(index)]"
                    guard array.indices.contains(index) else { throw PredicateError("`\(shown)` is out of range") }
                    value = array[index]
                default:
                    throw PredicateError("`\(shown)` has no \(step)")
                }
            }
            return value
        case .not(let inner):
            return .bool(!(try Self.truth(try inner.evaluate(scope, budget: &budget))))
        case .negate(let inner):
            return .number(-(try Self.number(try inner.evaluate(scope, budget: &budget))))
        case .list(let items):
            var values: [JSONValue] = []
            for item in items { values.append(try item.evaluate(scope, budget: &budget)) }
            return .array(values)
        case .binary(let op, let left, let right):
            switch op {
            case .and:
                guard try Self.truth(try left.evaluate(scope, budget: &budget)) else { return .bool(false) }
                return .bool(try Self.truth(try right.evaluate(scope, budget: &budget)))
            case .or:
                if try Self.truth(try left.evaluate(scope, budget: &budget)) { return .bool(true) }
                return .bool(try Self.truth(try right.evaluate(scope, budget: &budget)))
            default:
                let a = try left.evaluate(scope, budget: &budget)
                let b = try right.evaluate(scope, budget: &budget)
                return try Self.apply(op, a, b)
            }
        case .call(let function, let arguments):
            var values: [JSONValue] = []
            for argument in arguments { values.append(try argument.evaluate(scope, budget: &budget)) }
            return try Self.call(function, values)
        case .comprehension(let function, let element, let name, let source, let condition):
            guard case .array(let items) = try source.evaluate(scope, budget: &budget) else {
                throw PredicateError("`for \(name) in …` needs a list")
            }
            var values: [JSONValue] = []
            var inner = scope
            for item in items {
                inner[name] = item
                if let condition, !(try Self.truth(try condition.evaluate(inner, budget: &budget))) { continue }
                values.append(try element.evaluate(inner, budget: &budget))
            }
            return try Self.call(function, [.array(values)])
        }
    }

    static func truth(_ value: JSONValue) throws(PredicateError) -> Bool {
        guard case .bool(let flag) = value else { throw PredicateError("\(value) is not true or false") }
        return flag
    }

    static func number(_ value: JSONValue) throws(PredicateError) -> Double {
        guard case .number(let number) = value else { throw PredicateError("\(value) is not a number") }
        return number
    }

    static func apply(_ op: BinaryOperator, _ a: JSONValue, _ b: JSONValue) throws(PredicateError) -> JSONValue {
        switch op {
        case .equal: return .bool(a == b)
        case .notEqual: return .bool(a != b)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order: ComparisonResult
            switch (a, b) {
            case (.number(let x), .number(let y)):
                order = x < y ? .orderedAscending : x > y ? .orderedDescending : .orderedSame
            case (.string(let x), .string(let y)):
                order = x < y ? .orderedAscending : x > y ? .orderedDescending : .orderedSame
            default: throw PredicateError("cannot compare \(a) with \(b)")
            }
            let holds: Bool =
                switch op {
                case .less: order == .orderedAscending
                case .lessOrEqual: order != .orderedDescending
                case .greater: order == .orderedDescending
                default: order != .orderedAscending
                }
            return .bool(holds)
        case .in, .notIn:
            let found: Bool
            switch (a, b) {
            case (_, .array(let items)): found = items.contains(a)
            case (.string(let key), .object(let object)): found = object[key] != nil
            case (.string(let part), .string(let whole)): found = whole.contains(part)
            default: throw PredicateError("`in` needs a list, an object or a string on its right")
            }
            return .bool(op == .in ? found : !found)
        case .plus:
            if case .string(let x) = a, case .string(let y) = b { return .string(x + y) }
            return try finite(try number(a) + number(b))
        case .minus: return try finite(try number(a) - number(b))
        case .times: return try finite(try number(a) * number(b))
        case .divided:
            let divisor = try number(b)
            guard divisor != 0 else { throw PredicateError("division by zero") }
            return try finite(try number(a) / divisor)
        case .and, .or:
            let left = try truth(a)
            let right = try truth(b)
            return .bool(left && right)
        }
    }

    static func finite(_ value: Double) throws(PredicateError) -> JSONValue {
        guard value.isFinite else { throw PredicateError("a number grew out of range") }
        return .number(value)
    }

    static func call(_ function: Function, _ arguments: [JSONValue]) throws(PredicateError) -> JSONValue {
        // min, max, sum, all and any take one list, or (min, max) several values.
        func items() throws(PredicateError) -> [JSONValue] {
            if arguments.count == 1, case .array(let list) = arguments[0] { return list }
            guard function == .min || function == .max, arguments.count > 1 else {
                throw PredicateError("`\(function.rawValue)` needs a list")
            }
            return arguments
        }
        switch function {
        case .len:
            guard arguments.count == 1 else { throw PredicateError("`len` takes one value") }
            switch arguments[0] {
            case .array(let list): return .number(Double(list.count))
            case .object(let object): return .number(Double(object.count))
            case .string(let text): return .number(Double(text.count))
            default: throw PredicateError("`len` needs a list, an object or a string")
            }
        case .abs:
            guard arguments.count == 1 else { throw PredicateError("`abs` takes one number") }
            return .number(Swift.abs(try number(arguments[0])))
        case .sum:
            var total = 0.0
            for item in try items() { total += try number(item) }
            return try finite(total)
        case .min, .max:
            var numbers: [Double] = []
            for item in try items() { numbers.append(try number(item)) }
            guard let first = numbers.first else { throw PredicateError("`\(function.rawValue)` of nothing") }
            return .number(
                numbers.dropFirst().reduce(first) { function == .min ? Swift.min($0, $1) : Swift.max($0, $1) }
            )
        case .all:
            for item in try items() where !(try truth(item)) { return .bool(false) }
            return .bool(true)
        case .any:
            for item in try items() where try truth(item) { return .bool(true) }
            return .bool(false)
        }
    }
}
