import Foundation

/// Where each group of a parsed checklist came from, so that validation can name lines or fields.
package struct ChecklistSource: Sendable, Equatable {
    package struct GroupSource: Sendable, Equatable {
        /// The heading line (Markdown).
        package var line: Int?
        /// The `Depends on:` line (Markdown), if any.
        package var dependsLine: Int?
        /// The field path of the group (JSON), such as `groups[2]`.
        package var field: String?
    }

    package var file: String
    /// One entry per group, in checklist order.
    package var groups: [GroupSource]
}

/// Reads `ACCEPTANCE.md`.
///
/// The format:
/// ```
/// # Title of the mission
/// Optional description.
///
/// ## Group title {#optional_explicit_id}
/// Depends on: other_group, another
/// Check: ./check.sh group
/// Allow: tests/test_group.py
/// Files: src/group.py, README.md
/// Speculate: 3
/// Probe: bench = ./bench/run.sh [file PATH] [when gate|landing|final]
/// Metric: bench.p95_ms <= 120 [(optional)] [{#id}]
/// Event: bench contains "warm cache" [at least N]
/// Predicate: bench.errors == 0 and len(bench.runs) >= 3
/// Attempts: 6
/// Pipeline: feature
/// Optional notes.
/// - [ ] a criterion
/// - [ ] another criterion, which may continue
///   on indented lines
/// ```
/// `Probe:` lines before the first group are the mission's (every group's criteria may read them).
package enum ChecklistParser {
    /// Parses and validates; throws every problem found, each naming `file` and a line.
    package static func parse(_ text: String, file: String) throws(ChecklistError) -> Checklist {
        let (checklist, source, problems) = parseUnvalidated(text, file: file)
        let all = problems + ChecklistValidator.problems(in: checklist, source: source)
        guard all.isEmpty else { throw ChecklistError(problems: all) }
        return checklist
    }

    /// Parses without validating dependencies, so that tools can show what was read.
    package static func parseUnvalidated(
        _ text: String,
        file: String
    ) -> (Checklist, ChecklistSource, [ChecklistProblem]) {
        var builder = Builder(file: file)
        var inFence = false
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
            let trimmed = line.trimmingWhitespace()
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                inFence.toggle()
                builder.text(line)
                continue
            }
            if inFence {
                builder.text(line)
                continue
            }
            builder.consume(line: line, trimmed: trimmed, number: index + 1)
        }
        return builder.finish()
    }
}

private struct Builder {
    let file: String
    var title = ""
    var sawTitle = false
    var descriptionLines: [String] = []
    var groups: [ChecklistGroup] = []
    var probes: [Probe] = []
    var sources: [ChecklistSource.GroupSource] = []
    var notes: [[String]] = []
    var problems: [ChecklistProblem] = []
    /// Whether the previous line was a criterion that an indented line may continue.
    var criterionOpen = false

    init(file: String) {
        self.file = file
    }

    mutating func consume(line: String, trimmed: String, number: Int) {
        if trimmed.hasPrefix("## ") || trimmed == "##" {
            startGroup(heading: String(trimmed.dropFirst(2)).trimmingWhitespace(), line: number)
            return
        }
        if (trimmed.hasPrefix("# ") || trimmed == "#") && groups.isEmpty && !sawTitle {
            title = String(trimmed.dropFirst(2)).trimmingWhitespace()
            sawTitle = true
            return
        }
        guard !groups.isEmpty else {
            if let value = directive("probe", in: trimmed) {
                addProbe(value, line: number)
            } else {
                descriptionLines.append(line)
            }
            return
        }
        if trimmed.isEmpty {
            criterionOpen = false
            notes[notes.count - 1].append("")
            return
        }
        if let value = directive("depends on", in: trimmed) {
            setDependencies(value, line: number)
            return
        }
        if let value = directive("check", in: trimmed) {
            setCheck(value, line: number)
            return
        }
        if let value = directive("allow", in: trimmed) {
            setAllow(value, line: number)
            return
        }
        if let value = directive("files", in: trimmed) {
            setFiles(value, line: number)
            return
        }
        if let value = directive("speculate", in: trimmed) {
            setSpeculate(value, line: number)
            return
        }
        if let value = directive("probe", in: trimmed) {
            addProbe(value, line: number)
            return
        }
        for kind in TypedCriterion.Kind.allCases {
            if let value = directive(kind.rawValue, in: trimmed) {
                addCriterion(kind, value, line: number)
                return
            }
        }
        if let value = directive("attempts", in: trimmed) {
            setAttempts(value, line: number)
            return
        }
        if let value = directive("pipeline", in: trimmed) {
            setPipeline(value, line: number)
            return
        }
        if let criterion = bulletText(trimmed) {
            if criterion.isEmpty {
                problems.append(problem(number, "empty criterion in group `\(groups[groups.count - 1].id)`"))
            } else {
                groups[groups.count - 1].criteria.append(criterion)
            }
            criterionOpen = !criterion.isEmpty
            return
        }
        if criterionOpen && line.hasPrefix("  ") {
            let last = groups[groups.count - 1].criteria.count - 1
            groups[groups.count - 1].criteria[last] += " " + trimmed
            return
        }
        criterionOpen = false
        notes[notes.count - 1].append(line)
    }

    /// A line inside a code fence: kept verbatim as description or notes.
    mutating func text(_ line: String) {
        criterionOpen = false
        if groups.isEmpty {
            descriptionLines.append(line)
        } else {
            notes[notes.count - 1].append(line)
        }
    }

    mutating func startGroup(heading: String, line: Int) {
        criterionOpen = false
        var title = heading
        var id: String?
        if heading.hasSuffix("}"), let open = heading.range(of: "{#", options: .backwards) {
            id = String(heading[open.upperBound..<heading.index(before: heading.endIndex)]).trimmingWhitespace()
            title = String(heading[..<open.lowerBound]).trimmingWhitespace()
        }
        if title.isEmpty {
            problems.append(problem(line, "a group heading needs a title"))
        }
        let resolvedID: String
        if let id {
            if !GroupIdentifier.isValid(id) {
                problems.append(
                    problem(
                        line,
                        "group id `\(id)` is not snake_case (lowercase letters, digits and _, starting with a letter)"
                    )
                )
            }
            resolvedID = id
        } else if let derived = GroupIdentifier.derive(fromTitle: title) {
            resolvedID = derived
        } else {
            if !title.isEmpty {
                problems.append(problem(line, "cannot derive an id from the title \"\(title)\"; add one as {#some_id}"))
            }
            resolvedID = "group_\(groups.count + 1)"
        }
        groups.append(ChecklistGroup(id: resolvedID, title: title, criteria: []))
        sources.append(.init(line: line, dependsLine: nil, field: nil))
        notes.append([])
    }

    mutating func setDependencies(_ value: String, line: Int) {
        let index = groups.count - 1
        if sources[index].dependsLine != nil {
            problems.append(problem(line, "group `\(groups[index].id)` has a second `Depends on:` line"))
        }
        sources[index].dependsLine = line
        let lowered = value.lowercased()
        guard !(lowered.isEmpty || lowered == "none" || lowered == "-" || lowered == "nothing") else { return }
        var seen = Set(groups[index].dependsOn)
        for part in value.split(separator: ",") {
            let dependency = String(part).trimmingWhitespace().trimmingCharacters(in: "`")
            if dependency.isEmpty {
                problems.append(problem(line, "empty entry in `Depends on:` of group `\(groups[index].id)`"))
            } else if seen.insert(dependency).inserted {
                groups[index].dependsOn.append(dependency)
            }
        }
    }

    mutating func setCheck(_ value: String, line: Int) {
        let index = groups.count - 1
        var command = value
        if command.count >= 2, command.hasPrefix("`"), command.hasSuffix("`") {
            command = String(command.dropFirst().dropLast()).trimmingWhitespace()
        }
        if command.isEmpty {
            problems.append(problem(line, "`Check:` of group `\(groups[index].id)` has no command"))
        } else if groups[index].check != nil {
            problems.append(problem(line, "group `\(groups[index].id)` has a second `Check:` line"))
        } else {
            groups[index].check = command
        }
    }

    /// `Allow:` names tests this group may edit (comma-separated patterns); several lines add up.
    mutating func setAllow(_ value: String, line: Int) {
        let index = groups.count - 1
        let patterns = value.split(separator: ",").map { String($0).trimmingWhitespace().trimmingCharacters(in: "`") }
        if patterns.isEmpty || patterns.contains(where: \.isEmpty) {
            problems.append(problem(line, "`Allow:` of group `\(groups[index].id)` has an empty pattern"))
            return
        }
        groups[index].allow += patterns
    }

    /// `Files:` names the files this group is expected to touch (comma-separated paths); several lines add up.
    mutating func setFiles(_ value: String, line: Int) {
        let index = groups.count - 1
        let paths = value.split(separator: ",").map { String($0).trimmingWhitespace().trimmingCharacters(in: "`") }
        if paths.isEmpty || paths.contains(where: \.isEmpty) {
            problems.append(problem(line, "`Files:` of group `\(groups[index].id)` has an empty path"))
            return
        }
        groups[index].files += paths
    }

    /// `Speculate: N` runs each attempt of this group as N candidates at once (2-5); the best-ranked passing one lands.
    mutating func setSpeculate(_ value: String, line: Int) {
        let index = groups.count - 1
        guard let count = Int(value), (2...5).contains(count) else {
            problems.append(
                problem(
                    line,
                    "`Speculate:` of group `\(groups[index].id)` must be a number from 2 to 5, not `\(value)`"
                )
            )
            return
        }
        groups[index].speculate = count
    }

    /// `Pipeline: NAME` runs each attempt of this group as the configuration's `[pipeline.NAME]`; that it exists is
    /// checked when the mission is created, against the configuration then.
    mutating func setPipeline(_ value: String, line: Int) {
        let index = groups.count - 1
        let name = value.trimmingCharacters(in: "`")
        guard Pipeline.isName(name) else {
            problems.append(
                problem(line, "`Pipeline:` of group `\(groups[index].id)` must name a pipeline, not `\(value)`")
            )
            return
        }
        groups[index].pipeline = name
    }

    /// `Probe: NAME = COMMAND …`: the group's, or before the first group the mission's; names are unique in both.
    mutating func addProbe(_ value: String, line: Int) {
        let probe: Probe
        do {
            probe = try Probe.parse(value)
        } catch {
            problems.append(problem(line, "`Probe:` \(error)"))
            return
        }
        let taken = probes.map(\.name) + (groups.last?.probes.map(\.name) ?? [])
        guard !taken.contains(probe.name) else {
            problems.append(problem(line, "a probe named `\(probe.name)` is already defined"))
            return
        }
        if groups.isEmpty {
            probes.append(probe)
        } else {
            groups[groups.count - 1].probes.append(probe)
        }
    }

    /// `Metric:`, `Event:` or `Predicate:`: read now, so that a criterion that does not read fails the checklist.
    mutating func addCriterion(_ kind: TypedCriterion.Kind, _ value: String, line: Int) {
        let index = groups.count - 1
        let count = groups[index].typedCriteria.filter { $0.kind == kind }.count
        let directive = kind.rawValue.prefix(1).uppercased() + kind.rawValue.dropFirst()
        do {
            let criterion = try TypedCriterion.parse(kind, value, defaultID: "\(kind.rawValue)-\(count + 1)")
            if groups[index].typedCriteria.contains(where: { $0.id == criterion.id }) {
                problems.append(problem(line, "group `\(groups[index].id)` has two criteria named `\(criterion.id)`"))
                return
            }
            let known = Set(probes.map(\.name) + groups[index].probes.map(\.name))
            if let unknown = criterion.probes.subtracting(known).sorted().first {
                problems.append(
                    problem(line, "`\(directive):` reads probe `\(unknown)`, which no `Probe:` line above defines")
                )
                return
            }
            groups[index].typedCriteria.append(criterion)
        } catch {
            problems.append(problem(line, "`\(directive):` \(error)"))
        }
    }

    /// `Attempts: N`: the group's own attempt budget (1 or more; -1 for no budget of its own).
    mutating func setAttempts(_ value: String, line: Int) {
        let index = groups.count - 1
        guard let count = Int(value), count == -1 || (1...1000).contains(count) else {
            problems.append(
                problem(line, "`Attempts:` of group `\(groups[index].id)` must be 1 to 1000, or -1, not `\(value)`")
            )
            return
        }
        groups[index].attempts = count == -1 ? nil : count
    }

    func directive(_ name: String, in trimmed: String) -> String? {
        guard let colon = trimmed.firstIndex(of: ":") else { return nil }
        let key = trimmed[..<colon].lowercased().replacingOccurrences(of: "-", with: " ")
        guard key.trimmingWhitespace() == name else { return nil }
        return String(trimmed[trimmed.index(after: colon)...]).trimmingWhitespace()
    }

    func bulletText(_ trimmed: String) -> String? {
        var rest: Substring
        if trimmed.hasPrefix("- ") || trimmed.hasPrefix("* ") || trimmed.hasPrefix("+ ") {
            rest = trimmed.dropFirst(2)
        } else if trimmed == "-" || trimmed == "*" {
            return ""
        } else {
            return nil
        }
        for box in ["[ ] ", "[x] ", "[X] "] where rest.hasPrefix(box) {
            rest = rest.dropFirst(box.count)
        }
        if rest == "[ ]" || rest == "[x]" || rest == "[X]" { return "" }
        return String(rest).trimmingWhitespace()
    }

    func problem(_ line: Int, _ message: String) -> ChecklistProblem {
        ChecklistProblem(file: file, line: line, message: message)
    }

    mutating func finish() -> (Checklist, ChecklistSource, [ChecklistProblem]) {
        for index in groups.indices {
            groups[index].notes = notes[index].joined(separator: "\n").trimmingBlankLines()
        }
        let checklist = Checklist(
            title: title,
            description: descriptionLines.joined(separator: "\n").trimmingBlankLines(),
            groups: groups,
            probes: probes
        )
        return (checklist, ChecklistSource(file: file, groups: sources), problems)
    }
}
