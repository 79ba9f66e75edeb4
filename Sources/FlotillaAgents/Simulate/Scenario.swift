import FlotillaCore
import Foundation

/// A script for the `simulate` backend: per group and attempt, what the simulated agent does.
///
/// ```json
/// {
///   "delay_ms": 100,
///   "barriers": {"both_running": 2},
///   "groups": {
///     "greeting": [
///       {"write": {"greeting.txt": "helo\n"}, "cost_usd": 0.02},
///       {"write": {"greeting.txt": "hello\n"}, "cost_usd": 0.03, "message": "fixed the typo"}
///     ],
///     "api": [{"barrier": "both_running", "append": {"api.txt": "GET /\n"}}],
///     "stuck": [{"hang": true}]
///   },
///   "default": {"write": {"done.txt": "ok\n"}}
/// }
/// ```
/// Attempt *n* of a group runs step *n*; once the steps run out, the last one repeats. Groups not listed run
/// `default` (or do nothing). Paths are relative to the worktree and may not leave it.
package struct Scenario: Sendable, Equatable {
    package var delay: Duration
    package var barriers: [String: Int]
    package var groups: [String: [ScenarioStep]]
    package var defaultStep: ScenarioStep?

    package init(
        delay: Duration = .zero,
        barriers: [String: Int] = [:],
        groups: [String: [ScenarioStep]],
        defaultStep: ScenarioStep? = nil
    ) {
        self.delay = delay
        self.barriers = barriers
        self.groups = groups
        self.defaultStep = defaultStep
    }

    /// The step for `attempt` (1-based) of `group`.
    package func step(group: String, attempt: Int) -> ScenarioStep? {
        guard let steps = groups[group], !steps.isEmpty else { return defaultStep }
        return steps[min(attempt, steps.count) - 1]
    }
}

/// One simulated agent session.
package struct ScenarioStep: Sendable, Equatable {
    package var write: [(path: String, contents: String)]
    package var append: [(path: String, contents: String)]
    package var delete: [String]
    /// Overrides the scenario's `delay_ms` for this step.
    package var delay: Duration?
    /// Waits until the barrier's number of agents have reached it (proof that they run at the same time).
    package var barrier: String?
    /// Never finishes on its own: only the attempt timeout ends it.
    package var hang: Bool
    package var exitCode: Int32
    package var usage: Usage
    package var message: String?

    package init(
        write: [(path: String, contents: String)] = [],
        append: [(path: String, contents: String)] = [],
        delete: [String] = [],
        delay: Duration? = nil,
        barrier: String? = nil,
        hang: Bool = false,
        exitCode: Int32 = 0,
        usage: Usage = .zero,
        message: String? = nil
    ) {
        self.write = write
        self.append = append
        self.delete = delete
        self.delay = delay
        self.barrier = barrier
        self.hang = hang
        self.exitCode = exitCode
        self.usage = usage
        self.message = message
    }

    package static func == (lhs: ScenarioStep, rhs: ScenarioStep) -> Bool {
        lhs.write.map { "\($0.path)=\($0.contents)" } == rhs.write.map { "\($0.path)=\($0.contents)" }
            && lhs.append.map { "\($0.path)=\($0.contents)" } == rhs.append.map { "\($0.path)=\($0.contents)" }
            && lhs.delete == rhs.delete && lhs.delay == rhs.delay && lhs.barrier == rhs.barrier
            && lhs.hang == rhs.hang && lhs.exitCode == rhs.exitCode && lhs.usage == rhs.usage
            && lhs.message == rhs.message
    }
}

/// A scenario file that cannot be used; each problem names the field.
package struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    package var file: String
    package var problems: [String]

    package var description: String {
        problems.map { "\(file): \($0)" }.joined(separator: "\n")
    }
}

extension Scenario {
    /// Reads a scenario's JSON, reporting every problem with its field path.
    package static func decode(_ data: Data, file: String) throws(ScenarioError) -> Scenario {
        var problems: [String] = []
        func fail(_ field: String, _ message: String) { problems.append("\(field): \(message)") }

        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ScenarioError(file: file, problems: ["expected a JSON object at the top level"])
            }
            root = object
        } catch let error as ScenarioError {
            throw error
        } catch {
            throw ScenarioError(file: file, problems: ["not valid JSON"])
        }
        for key in root.keys.sorted() where !["delay_ms", "barriers", "groups", "default"].contains(key) {
            fail(key, "unknown field (expected delay_ms, barriers, groups, default)")
        }
        var scenario = Scenario(groups: [:])
        if let delay = root["delay_ms"] {
            if let milliseconds = delay as? Int, milliseconds >= 0 {
                scenario.delay = .milliseconds(milliseconds)
            } else {
                fail("delay_ms", "expected a non-negative integer")
            }
        }
        if let barriers = root["barriers"] {
            if let barriers = barriers as? [String: Any] {
                for (name, parties) in barriers {
                    if let parties = parties as? Int, parties >= 1 {
                        scenario.barriers[name] = parties
                    } else {
                        fail("barriers.\(name)", "expected a number of agents (1 or more)")
                    }
                }
            } else {
                fail("barriers", "expected an object of barrier names to agent counts")
            }
        }
        if let groups = root["groups"] {
            if let groups = groups as? [String: Any] {
                for (group, steps) in groups {
                    guard let steps = steps as? [Any], !steps.isEmpty else {
                        fail("groups.\(group)", "expected a non-empty array of steps")
                        continue
                    }
                    scenario.groups[group] = steps.enumerated().compactMap { index, step in
                        parseStep(step, field: "groups.\(group)[\(index)]", fail: fail)
                    }
                }
            } else {
                fail("groups", "expected an object of group ids to arrays of steps")
            }
        }
        if let step = root["default"] {
            scenario.defaultStep = parseStep(step, field: "default", fail: fail)
        }
        for (group, steps) in scenario.groups {
            for (index, step) in steps.enumerated() {
                if let barrier = step.barrier, scenario.barriers[barrier] == nil {
                    fail("groups.\(group)[\(index)].barrier", "unknown barrier `\(barrier)` (declare it in `barriers`)")
                }
            }
        }
        guard problems.isEmpty else { throw ScenarioError(file: file, problems: problems.sorted()) }
        return scenario
    }

    private static func parseStep(_ value: Any, field: String, fail: (String, String) -> Void) -> ScenarioStep? {
        guard let fields = value as? [String: Any] else {
            fail(field, "expected an object")
            return nil
        }
        let known = [
            "write", "append", "delete", "delay_ms", "barrier", "hang", "exit_code", "cost_usd", "input_tokens",
            "output_tokens", "message",
        ]
        for key in fields.keys.sorted() where !known.contains(key) {
            fail("\(field).\(key)", "unknown field")
        }
        var step = ScenarioStep()
        step.write = files(fields["write"], field: "\(field).write", fail: fail)
        step.append = files(fields["append"], field: "\(field).append", fail: fail)
        if let delete = fields["delete"] {
            if let paths = delete as? [String] {
                for path in paths where !isSafe(path) { fail("\(field).delete", "path `\(path)` leaves the worktree") }
                step.delete = paths
            } else {
                fail("\(field).delete", "expected an array of paths")
            }
        }
        /// The value of `key` as `read` takes it, or nil (and a problem, when it was given but is not such).
        func typed<Value>(_ key: String, _ expected: String, _ read: (Any) -> Value?) -> Value? {
            guard let given = fields[key] else { return nil }
            if let value = read(given) { return value }
            fail("\(field).\(key)", "expected \(expected)")
            return nil
        }
        let count = { (given: Any) -> Int? in (given as? Int).flatMap { $0 >= 0 ? $0 : nil } }
        if let milliseconds = typed("delay_ms", "a non-negative integer", count) {
            step.delay = .milliseconds(milliseconds)
        }
        step.barrier = typed("barrier", "a name") { (given: Any) -> String? in given as? String }
        step.hang = typed("hang", "true or false") { (given: Any) -> Bool? in given as? Bool } ?? step.hang
        if let code = typed("exit_code", "an integer from 0 to 255", { ($0 as? Int).flatMap(UInt8.init(exactly:)) }) {
            step.exitCode = Int32(code)
        }
        let dollars = { (given: Any) -> Double? in
            guard !(given is Bool), let number = (given as? NSNumber)?.doubleValue, number >= 0 else { return nil }
            return number
        }
        if let cost = typed("cost_usd", "a non-negative number", dollars) { step.usage.costUSD = cost }
        if let tokens = typed("input_tokens", "a non-negative integer", count) { step.usage.inputTokens = tokens }
        if let tokens = typed("output_tokens", "a non-negative integer", count) { step.usage.outputTokens = tokens }
        step.message = typed("message", "a string") { (given: Any) -> String? in given as? String } ?? step.message
        return step
    }

    private static func files(
        _ value: Any?,
        field: String,
        fail: (String, String) -> Void
    ) -> [(path: String, contents: String)] {
        guard let value else { return [] }
        guard let map = value as? [String: Any] else {
            fail(field, "expected an object of paths to contents")
            return []
        }
        var result: [(path: String, contents: String)] = []
        for path in map.keys.sorted() {
            guard let contents = map[path] as? String else {
                fail("\(field).\(path)", "expected the file's contents as a string")
                continue
            }
            guard isSafe(path) else {
                fail("\(field).\(path)", "path leaves the worktree (use a relative path without `..`)")
                continue
            }
            result.append((path, contents))
        }
        return result
    }

    /// A relative path that stays inside the worktree.
    static func isSafe(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.split(separator: "/").contains("..")
            && !path.split(separator: "/").contains(".git")
    }
}
