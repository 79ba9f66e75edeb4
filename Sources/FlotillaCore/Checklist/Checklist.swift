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
    /// Probes before the first group: mission-wide, their figures open to every group's criteria and measured again
    /// at every landing and the final verify.
    package var probes: [Probe] = []

    package init(title: String, description: String = "", groups: [ChecklistGroup], probes: [Probe] = []) {
        self.title = title
        self.description = description
        self.groups = groups
        self.probes = probes
    }

    enum CodingKeys: String, CodingKey {
        case title, description, groups, probes
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.decode(String.self, forKey: .title)
        description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
        groups = try container.decode([ChecklistGroup].self, forKey: .groups)
        probes = try ChecklistGroup.probes(container.decodeIfPresent([String].self, forKey: .probes) ?? [])
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(title, forKey: .title)
        try container.encode(description, forKey: .description)
        try container.encode(groups, forKey: .groups)
        if !probes.isEmpty { try container.encode(probes.map(\.line), forKey: .probes) }
    }

    /// The probes a group's criteria may read: the mission's, then its own.
    package func probes(of group: String) -> [Probe] {
        probes + (self.group(group)?.probes ?? [])
    }

    /// Every probe: the mission's, then each group's.
    package var allProbes: [Probe] { probes + groups.flatMap(\.probes) }

    /// The probes' commands, which judge as the verify does.
    package var probeCommands: [String] { allProbes.map(\.command) }

    /// Whether any group judges figures.
    package var hasTypedCriteria: Bool { groups.contains { !$0.typedCriteria.isEmpty } }

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
    /// The group's own probes (`Probe:` lines).
    package var probes: [Probe] = []
    /// Criteria that judge figures (`Metric:`, `Event:`, `Predicate:` lines), beside the free-text ones.
    package var typedCriteria: [TypedCriterion] = []
    /// The group's own attempt budget (`Attempts: N`); nil for the mission's.
    package var attempts: Int?
    /// The pipeline its attempts run (`Pipeline: NAME`, a `[pipeline.NAME]` of the configuration); nil for the
    /// mission's (`--pipeline`), else one agent session.
    package var pipeline: String?

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
        case allow, files, speculate, probes, attempts, pipeline
        case metrics, events, predicates
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
        probes = try Self.probes(container.decodeIfPresent([String].self, forKey: .probes) ?? [])
        attempts = try container.decodeIfPresent(Int.self, forKey: .attempts)
        pipeline = try container.decodeIfPresent(String.self, forKey: .pipeline)
        for (kind, key) in [
            (TypedCriterion.Kind.metric, CodingKeys.metrics), (.event, .events), (.predicate, .predicates),
        ] {
            for (index, line) in (try container.decodeIfPresent([String].self, forKey: key) ?? []).enumerated() {
                do {
                    typedCriteria.append(
                        try TypedCriterion.parse(kind, line, defaultID: "\(kind.rawValue)-\(index + 1)")
                    )
                } catch {
                    throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "\(error)")
                }
            }
        }
    }

    /// Probes read from their lines (`NAME = COMMAND …`).
    static func probes(_ lines: [String]) throws -> [Probe] {
        try lines.map { line in
            do { return try Probe.parse(line) } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "probe: \(error)"))
            }
        }
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
        if !probes.isEmpty { try container.encode(probes.map(\.line), forKey: .probes) }
        try container.encodeIfPresent(attempts, forKey: .attempts)
        try container.encodeIfPresent(pipeline, forKey: .pipeline)
        for (kind, key) in [
            (TypedCriterion.Kind.metric, CodingKeys.metrics), (.event, .events), (.predicate, .predicates),
        ] {
            let lines = typedCriteria.filter { $0.kind == kind }.map(\.line)
            if !lines.isEmpty { try container.encode(lines, forKey: key) }
        }
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
