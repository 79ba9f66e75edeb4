import Foundation

/// Keeps an attempt from reaching into what grades it: the test runners' configuration and plugins, the interpreter's
/// start-up hooks, modules named like the tools that run the tests, and added code that ends the run early or reads
/// Flotilla's variables.
///
/// Such a change is held: the attempt is rejected with the reason, and the agent told. A group's `Allow:` line opens
/// paths it names. The checks are by name and by the text added, so they stop the usual ways to fake a run, not
/// every way: the verify command itself, and its files, are taken from the base whatever the attempt did.
package struct GraderGuard: Sendable {
    /// How a path changed.
    package enum Change: Sendable, Equatable {
        case added, modified, deleted
    }

    /// A change that reaches into the grader, and how.
    package struct Reach: Sendable, Equatable, CustomStringConvertible {
        package var path: String
        package var reason: String

        package var description: String { "\(path): \(reason)" }
    }

    /// Files a runner loads, by name: adding, changing or deleting one changes how the tests run.
    static let runnerFiles: [(pattern: String, what: String)] = [
        ("conftest.py", "pytest's hooks and fixtures"), ("pytest.ini", "pytest's configuration"),
        (".pytest.ini", "pytest's configuration"), ("sitecustomize.py", "Python's start-up hook"),
        ("usercustomize.py", "Python's start-up hook"), ("*.pth", "a path file Python runs at start-up"),
        ("jest.config.*", "jest's configuration"), ("vitest.config.*", "vitest's configuration"),
        (".mocharc.*", "mocha's configuration"), ("karma.conf.*", "karma's configuration"),
    ]

    /// Sections of shared files that configure a runner: the rest of the file is the project's.
    static let sections: [String: [String]] = [
        "pyproject.toml": ["tool.pytest"], "setup.cfg": ["tool:pytest"],
        "tox.ini": ["pytest"],
    ]

    /// Keys of `package.json` that configure how tests run.
    static let packageKeys = ["jest", "mocha", "vitest", "ava", "scripts"]

    /// Modules named like the tools that run tests, or that Python loads before them.
    static let tools: Set<String> = [
        "pytest", "_pytest", "py", "pluggy", "unittest", "nose", "nose2", "coverage", "hypothesis", "tox",
        "sitecustomize", "usercustomize", "site", "runpy", "importlib", "doctest",
    ]

    /// Added code that reaches into the run rather than doing the work.
    static let reaching: [(fragment: String, reason: String)] = [
        ("os._exit(", "ends the process early (os._exit), which ends the test run before it reports"),
        ("FLOTILLA_", "reads Flotilla's own variables (FLOTILLA_…)"),
        ("_pytest", "reaches into pytest's internals (_pytest)"),
        ("pytest_plugins", "loads pytest plugins (pytest_plugins)"),
    ]

    /// Paths a group's `Allow:` line opens.
    let allowed: ProtectedPaths

    package init(allowed: [String] = []) {
        self.allowed = ProtectedPaths(allowed)
    }

    /// The changes that reach into the grader, each with its reason.
    ///
    /// - Parameters:
    ///   - changes: every path the attempt changed, and how.
    ///   - added: the lines the attempt added, by path.
    ///   - base: a path's contents at the attempt's start, if it had one.
    ///   - new: a path's contents in the attempt, if it has one.
    /// - Returns: each change that reaches into the grader, with why.
    package func check(
        _ changes: [(path: String, change: Change)],
        added: [String: [String]],
        base: (String) -> String?,
        new: (String) -> String?
    ) -> [Reach] {
        var reaches: [Reach] = []
        for (path, change) in changes where allowed.pattern(protecting: path) == nil {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            let verb = change == .added ? "adds" : change == .deleted ? "deletes" : "changes"
            if let file = Self.runnerFiles.first(where: { ProtectedPaths.matchSegment($0.pattern, name) }) {
                reaches.append(Reach(path: path, reason: "\(verb) \(file.what), which loads into the verify run"))
                continue
            }
            if let sections = Self.sections[name] {
                let changed = sections.filter { Self.section($0, of: base(path)) != Self.section($0, of: new(path)) }
                if !changed.isEmpty {
                    let list = changed.map { "[\($0)]" }.joined(separator: ", ")
                    reaches.append(Reach(path: path, reason: "\(verb) the test runner's configuration (\(list))"))
                    continue
                }
            }
            if name == "package.json" {
                let changed = Self.packageKeys.filter { Self.key($0, of: base(path)) != Self.key($0, of: new(path)) }
                if !changed.isEmpty {
                    let list = changed.map { "\"\($0)\"" }.joined(separator: ", ")
                    reaches.append(Reach(path: path, reason: "\(verb) how the tests run (\(list) in package.json)"))
                    continue
                }
            }
            if change == .added, let module = Self.module(path), Self.tools.contains(module) {
                reaches.append(
                    Reach(path: path, reason: "adds a module named like the tool that runs the tests (\(module))")
                )
                continue
            }
            if change != .deleted, let lines = added[path],
                let found = Self.reaching.first(where: { rule in lines.contains { $0.contains(rule.fragment) } })
            {
                reaches.append(Reach(path: path, reason: found.reason))
            }
        }
        return reaches
    }

    /// Whether a runner loads `path` by its name (a configuration file, a start-up hook, a module named like a tool):
    /// then whether it was added, changed or deleted matters.
    package static func isNamedByRunners(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return runnerFiles.contains { ProtectedPaths.matchSegment($0.pattern, name) } || sharesConfiguration(path)
            || module(path).map(tools.contains) == true
    }

    /// Whether `path` is a file of the project's that also configures a runner (`pyproject.toml`, `package.json`…).
    package static func sharesConfiguration(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return sections[name] != nil || name == "package.json"
    }

    /// The Python module a path adds: `pytest.py` → `pytest`, `pytest/__init__.py` → `pytest`.
    static func module(_ path: String) -> String? {
        let parts = path.split(separator: "/").map(String.init)
        guard let last = parts.last, last.hasSuffix(".py") else { return nil }
        if last == "__init__.py" { return parts.count > 1 ? parts[parts.count - 2] : nil }
        return String(last.dropLast(3))
    }

    /// The lines of a `[section]` of an INI or TOML file (its sub-tables too), trimmed; nil without one.
    static func section(_ name: String, of text: String?) -> [String]? {
        guard let text else { return nil }
        var lines: [String]?
        var inside = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw).trimmingWhitespace()
            if line.hasPrefix("[") {
                let header = line.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
                inside = header == name || header.hasPrefix(name + ".")
                if inside { lines = (lines ?? []) + [line] }
                continue
            }
            if inside, !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix(";") { lines?.append(line) }
        }
        return lines
    }

    /// The value of a top-level key of a JSON object, as JSON; nil without one.
    static func key(_ name: String, of text: String?) -> JSONValue? {
        guard let text, let object = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
            return nil
        }
        return object[name]
    }
}

extension GraderGuard {
    /// The lines each file gains in a unified diff (`git diff` output), by the path they are added to.
    package static func addedLines(inPatch patch: String) -> [String: [String]] {
        var added: [String: [String]] = [:]
        var path: String?
        for line in patch.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("+++ ") {
                let target = line.dropFirst(4)
                path = target == "/dev/null" ? nil : String(target.hasPrefix("b/") ? target.dropFirst(2) : target)
            } else if line.hasPrefix("+"), let path {
                added[path, default: []].append(String(line.dropFirst()))
            }
        }
        return added
    }
}
