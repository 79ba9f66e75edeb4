/// A problem in a checklist, located by file and line (Markdown) or by field path (JSON).
package struct ChecklistProblem: Sendable, Equatable, CustomStringConvertible {
    package var file: String
    /// 1-based line, when the source has lines.
    package var line: Int?
    /// A JSON field path such as `groups[2].depends_on[0]`, when the source is JSON.
    package var field: String?
    package var message: String

    package init(file: String, line: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    package var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let field { location += ": \(field)" }
        return "\(location): \(message)"
    }
}

/// A checklist that cannot be used; every problem is listed, one per line.
package struct ChecklistError: Error, Sendable, Equatable, CustomStringConvertible {
    package var problems: [ChecklistProblem]

    package init(problems: [ChecklistProblem]) {
        self.problems = problems
    }

    package var description: String {
        problems.map(\.description).joined(separator: "\n")
    }

    /// Each problem as a field of the input it is about: `ACCEPTANCE.md:4`, or `plan.json: groups[2].id`.
    package var fields: [FieldProblem] {
        problems.map { problem in
            var location = problem.file
            if let line = problem.line { location += ":\(line)" }
            if let field = problem.field { location += ": \(field)" }
            return FieldProblem(field: location, message: problem.message)
        }
    }
}
