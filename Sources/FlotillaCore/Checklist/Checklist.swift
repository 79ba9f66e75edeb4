/// The acceptance checklist of a mission: groups of criteria whose dependencies form a DAG.
///
/// The same model is read from and written to `ACCEPTANCE.md` (``ChecklistParser``, ``ChecklistRenderer``)
/// and to its JSON form (``ChecklistJSON``).
package struct Checklist: Sendable, Equatable, Codable {
    /// The mission title (the document's `# heading`); it serves as the goal when none is given.
    package var title: String
    /// Free text between the title and the first group.
    package var description: String
    package var groups: [ChecklistGroup]

    package init(title: String, description: String = "", groups: [ChecklistGroup]) {
        self.title = title
        self.description = description
        self.groups = groups
    }

    package func group(_ id: String) -> ChecklistGroup? {
        groups.first { $0.id == id }
    }

    package var groupIDs: [String] { groups.map(\.id) }
}

/// One node of the checklist: a set of criteria that are checked and landed together.
package struct ChecklistGroup: Sendable, Equatable, Codable {
    /// A stable snake_case identifier: explicit, or derived from the title.
    package var id: String
    package var title: String
    package var dependsOn: [String]
    /// A command that checks this group alone; when absent the mission's verify command is run with
    /// `FLOTILLA_GROUPS` set to this group's id.
    package var check: String?
    /// Free text under the heading that is neither a directive nor a criterion.
    package var notes: String
    package var criteria: [String]
    /// Tests this group may edit (the `Allow:` line): patterns as ``ProtectedPaths`` reads them.
    package var allow: [String]
    /// Files this group is expected to touch (the `Files:` line): a hint for scheduling, never a restriction.
    package var files: [String] = []
    /// Best of N (the `Speculate: N` line, 2-5): every attempt of this group runs as N candidates at once.
    package var speculate: Int?

    package init(
        id: String,
        title: String,
        dependsOn: [String] = [],
        check: String? = nil,
        notes: String = "",
        criteria: [String],
        allow: [String] = []
    ) {
        self.allow = allow
        self.id = id
        self.title = title
        self.dependsOn = dependsOn
        self.check = check
        self.notes = notes
        self.criteria = criteria
    }

    enum CodingKeys: String, CodingKey {
        case id
        case title
        case dependsOn = "depends_on"
        case check
        case notes
        case criteria
        case allow, files, speculate
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        title = try container.decode(String.self, forKey: .title)
        dependsOn = try container.decodeIfPresent([String].self, forKey: .dependsOn) ?? []
        check = try container.decodeIfPresent(String.self, forKey: .check)
        notes = try container.decodeIfPresent(String.self, forKey: .notes) ?? ""
        criteria = try container.decode([String].self, forKey: .criteria)
        allow = try container.decodeIfPresent([String].self, forKey: .allow) ?? []
        files = try container.decodeIfPresent([String].self, forKey: .files) ?? []
        speculate = try container.decodeIfPresent(Int.self, forKey: .speculate)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(title, forKey: .title)
        try container.encode(dependsOn, forKey: .dependsOn)
        try container.encodeIfPresent(check, forKey: .check)
        try container.encode(notes, forKey: .notes)
        try container.encode(criteria, forKey: .criteria)
        if !allow.isEmpty { try container.encode(allow, forKey: .allow) }
        if !files.isEmpty { try container.encode(files, forKey: .files) }
        try container.encodeIfPresent(speculate, forKey: .speculate)
    }
}

/// Group identifiers: lowercase snake_case starting with a letter.
package enum GroupIdentifier {
    package static func isValid(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// Derives the stable id of a title: "HTTP API (v2)" becomes `http_api_v2`.
    package static func derive(fromTitle title: String) -> String? {
        var result = ""
        var pendingSeparator = false
        for scalar in title.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                if pendingSeparator && !result.isEmpty { result.append("_") }
                pendingSeparator = false
                result.unicodeScalars.append(scalar)
            } else {
                pendingSeparator = true
            }
        }
        guard let first = result.unicodeScalars.first else { return nil }
        if ("0"..."9").contains(first) { result = "g_" + result }
        return result
    }
}
