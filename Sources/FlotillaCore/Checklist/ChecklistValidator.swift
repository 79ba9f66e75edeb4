/// Checks the structure of a checklist: ids, duplicates, dependencies, cycles and empty groups.
package enum ChecklistValidator {
    /// Every problem in `checklist`, located through `source` (lines for Markdown, fields for JSON).
    package static func problems(in checklist: Checklist, source: ChecklistSource) -> [ChecklistProblem] {
        var problems: [ChecklistProblem] = []
        func locate(_ index: Int, dependsLine: Bool = false, suffix: String? = nil) -> (Int?, String?) {
            guard index < source.groups.count else { return (nil, nil) }
            let group = source.groups[index]
            let line = dependsLine ? (group.dependsLine ?? group.line) : group.line
            let field = group.field.map { path in suffix.map { "\(path).\($0)" } ?? path }
            return (line, field)
        }
        func add(_ index: Int, dependsLine: Bool = false, suffix: String? = nil, _ message: String) {
            let (line, field) = locate(index, dependsLine: dependsLine, suffix: suffix)
            problems.append(ChecklistProblem(file: source.file, line: line, field: field, message: message))
        }

        if checklist.groups.isEmpty {
            problems.append(
                ChecklistProblem(
                    file: source.file,
                    line: nil,
                    field: source.groups.isEmpty && source.file.hasSuffix(".json") ? "groups" : nil,
                    message:
                        "the checklist has no groups (add `## Group title` sections with `- [ ] criterion` bullets)"
                )
            )
            return problems
        }

        var firstIndex: [String: Int] = [:]
        for (index, group) in checklist.groups.enumerated() {
            if !GroupIdentifier.isValid(group.id) {
                add(
                    index,
                    suffix: "id",
                    "group id `\(group.id)` is not snake_case (lowercase letters, digits and _, starting with a letter)"
                )
            }
            if let first = firstIndex[group.id] {
                let (firstLine, firstField) = locate(first)
                let firstPlace = firstLine.map { "line \($0)" } ?? firstField ?? "earlier"
                add(index, suffix: "id", "duplicate group id `\(group.id)` (first defined at \(firstPlace))")
            } else {
                firstIndex[group.id] = index
            }
            if group.title.trimmingWhitespace().isEmpty && source.groups.indices.contains(index)
                && source.groups[index].field != nil
            {
                add(index, suffix: "title", "group `\(group.id)` has no title")
            }
            if group.criteria.isEmpty {
                add(index, suffix: "criteria", "group `\(group.id)` has no criteria (add `- [ ] …` bullets)")
            }
            if let check = group.check, check.trimmingWhitespace().isEmpty {
                add(index, suffix: "check", "`check` of group `\(group.id)` is empty")
            }
            for (position, dependency) in group.dependsOn.enumerated() {
                let suffix = "depends_on[\(position)]"
                if dependency == group.id {
                    add(index, dependsLine: true, suffix: suffix, "group `\(group.id)` depends on itself")
                } else if !checklist.groups.contains(where: { $0.id == dependency }) {
                    add(
                        index,
                        dependsLine: true,
                        suffix: suffix,
                        "group `\(group.id)` depends on unknown group `\(dependency)`"
                    )
                }
            }
        }

        for cycle in DependencyGraph(checklist).cycles() {
            guard let index = firstIndex[cycle[0]] else { continue }
            let path = (cycle + [cycle[0]]).map { "`\($0)`" }.joined(separator: " → ")
            add(index, dependsLine: true, suffix: "depends_on", "dependency cycle: \(path)")
        }
        return problems.sorted { ($0.line ?? Int.max, $0.field ?? "") < ($1.line ?? Int.max, $1.field ?? "") }
    }
}

/// The dependency edges of a checklist, for cycle detection and ordering.
package struct DependencyGraph: Sendable {
    package let order: [String]
    package let dependencies: [String: [String]]

    package init(_ checklist: Checklist) {
        var order: [String] = []
        var dependencies: [String: [String]] = [:]
        for group in checklist.groups where dependencies[group.id] == nil {
            order.append(group.id)
            dependencies[group.id] = group.dependsOn
        }
        self.order = order
        self.dependencies = dependencies
    }

    /// Each cycle once, as the list of ids along it, starting from its earliest group in checklist order.
    package func cycles() -> [[String]] {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var found: [[String]] = []
        var seenCycles = Set<[String]>()
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })

        for root in order where marks[root] == nil {
            // Iterative depth-first search; the stack holds each node and the index of its next edge.
            var stack: [(id: String, next: Int)] = [(root, 0)]
            marks[root] = .visiting
            while let top = stack.last {
                let edges = (dependencies[top.id] ?? []).filter { dependencies[$0] != nil && $0 != top.id }
                if top.next >= edges.count {
                    marks[top.id] = .done
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].next += 1
                let target = edges[top.next]
                switch marks[target] {
                case .none:
                    marks[target] = .visiting
                    stack.append((target, 0))
                case .visiting:
                    guard let start = stack.firstIndex(where: { $0.id == target }) else { continue }
                    var cycle = stack[start...].map(\.id)
                    if let minIndex = cycle.indices.min(by: {
                        position[cycle[$0], default: 0] < position[cycle[$1], default: 0]
                    }) {
                        cycle = Array(cycle[minIndex...] + cycle[..<minIndex])
                    }
                    if seenCycles.insert(cycle).inserted { found.append(cycle) }
                case .done:
                    continue
                }
            }
        }
        return found
    }
}
