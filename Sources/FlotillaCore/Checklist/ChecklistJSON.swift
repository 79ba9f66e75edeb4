import Foundation

/// The JSON form of a checklist, as planners produce it:
/// `{"title": …, "description": …, "groups": [{"id", "title", "depends_on", "check", "notes", "criteria"}]}`, and
/// optionally per group `allow`, `files`, `speculate`, `probes`, `metrics`, `events`, `predicates`, `attempts` and
/// `pipeline` (as the `Allow:`, `Files:`, `Speculate:`, `Probe:`, `Metric:`, `Event:`, `Predicate:`, `Attempts:` and
/// `Pipeline:` lines, each an array of those lines' values where a group may have several), and the mission's `probes`.
///
/// Decoding walks the document by hand so that every error names the field (`groups[2].depends_on[0]`).
package enum ChecklistJSON {
    package static func decode(_ data: Data, file: String) throws(ChecklistError) -> Checklist {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ChecklistError(problems: [.init(file: file, message: "not valid JSON (\(jsonErrorSummary(error)))")])
        }
        var problems: [ChecklistProblem] = []
        func fail(_ field: String?, _ message: String) {
            problems.append(ChecklistProblem(file: file, field: field, message: message))
        }
        guard let root = object as? [String: Any] else {
            throw ChecklistError(problems: [.init(file: file, message: "expected a JSON object at the top level")])
        }
        for key in root.keys.sorted() where !["title", "description", "groups", "probes"].contains(key) {
            fail(key, "unknown field")
        }
        let title = root["title"] as? String ?? ""
        if root["title"] != nil && root["title"] as? String == nil { fail("title", "expected a string") }
        let description = root["description"] as? String ?? ""
        if root["description"] != nil && root["description"] as? String == nil {
            fail("description", "expected a string")
        }
        guard let rawGroups = root["groups"] as? [Any] else {
            fail("groups", root["groups"] == nil ? "missing (an array of groups)" : "expected an array of groups")
            throw ChecklistError(problems: problems)
        }
        var missionProbes: [Probe] = []
        for (index, line) in stringArray(root["probes"], path: "probes", required: false, fail: fail).enumerated() {
            do { missionProbes.append(try Probe.parse(line)) } catch { fail("probes[\(index)]", "\(error)") }
        }
        var groups: [ChecklistGroup] = []
        var sources: [ChecklistSource.GroupSource] = []
        for (index, raw) in rawGroups.enumerated() {
            let path = "groups[\(index)]"
            guard let fields = raw as? [String: Any] else {
                fail(path, "expected an object")
                continue
            }
            let known = [
                "id", "title", "depends_on", "check", "notes", "criteria", "allow", "files", "speculate", "probes",
                "metrics", "events", "predicates", "attempts", "pipeline",
            ]
            for key in fields.keys.sorted() where !known.contains(key) { fail("\(path).\(key)", "unknown field") }
            let title = fields["title"] as? String
            if title == nil { fail("\(path).title", fields["title"] == nil ? "missing" : "expected a string") }
            var id = fields["id"] as? String
            if fields["id"] != nil && id == nil { fail("\(path).id", "expected a string") }
            if id == nil, let title { id = GroupIdentifier.derive(fromTitle: title) }
            let dependsOn = stringArray(fields["depends_on"], path: "\(path).depends_on", required: false, fail: fail)
            let criteria = stringArray(fields["criteria"], path: "\(path).criteria", required: true, fail: fail)
            for (position, criterion) in criteria.enumerated() where criterion.trimmingWhitespace().isEmpty {
                fail("\(path).criteria[\(position)]", "empty criterion")
            }
            var check: String?
            if let value = fields["check"], !(value is NSNull) {
                check = value as? String
                if check == nil { fail("\(path).check", "expected a string or null") }
            }
            let notes = fields["notes"] as? String ?? ""
            var group = ChecklistGroup(
                id: id ?? "",
                title: title ?? "",
                dependsOn: dependsOn,
                check: check,
                notes: notes,
                criteria: criteria.filter { !$0.trimmingWhitespace().isEmpty },
                allow: stringArray(fields["allow"], path: "\(path).allow", required: false, fail: fail)
            )
            group.files = stringArray(fields["files"], path: "\(path).files", required: false, fail: fail)
            if let value = fields["speculate"], !(value is NSNull) {
                if let count = value as? Int, !(value is Bool), (2...5).contains(count) {
                    group.speculate = count
                } else {
                    fail("\(path).speculate", "expected a number from 2 to 5")
                }
            }
            for (position, line) in stringArray(fields["probes"], path: "\(path).probes", required: false, fail: fail)
                .enumerated()
            {
                do { group.probes.append(try Probe.parse(line)) } catch {
                    fail("\(path).probes[\(position)]", "\(error)")
                }
            }
            let probeNames = Set(missionProbes.map(\.name) + group.probes.map(\.name))
            for kind in TypedCriterion.Kind.allCases {
                let key = kind.rawValue + "s"
                for (position, line) in stringArray(fields[key], path: "\(path).\(key)", required: false, fail: fail)
                    .enumerated()
                {
                    let field = "\(path).\(key)[\(position)]"
                    do {
                        let criterion = try TypedCriterion.parse(
                            kind,
                            line,
                            defaultID: "\(kind.rawValue)-\(position + 1)"
                        )
                        if let unknown = criterion.probes.subtracting(probeNames).sorted().first {
                            fail(field, "reads probe `\(unknown)`, which no probe defines")
                        } else if group.typedCriteria.contains(where: { $0.id == criterion.id }) {
                            fail(field, "a second criterion named `\(criterion.id)`")
                        } else {
                            group.typedCriteria.append(criterion)
                        }
                    } catch {
                        fail(field, "\(error)")
                    }
                }
            }
            if let value = fields["attempts"], !(value is NSNull) {
                if let count = value as? Int, !(value is Bool), count == -1 || (1...1000).contains(count) {
                    group.attempts = count == -1 ? nil : count
                } else {
                    fail("\(path).attempts", "expected a number from 1 to 1000, or -1")
                }
            }
            if let value = fields["pipeline"], !(value is NSNull) {
                if let name = value as? String, Pipeline.isName(name) {
                    group.pipeline = name
                } else {
                    fail("\(path).pipeline", "expected a pipeline's name (lowercase letters, digits, - and _)")
                }
            }
            groups.append(group)
            sources.append(.init(line: nil, dependsLine: nil, field: path))
        }
        let checklist = Checklist(title: title, description: description, groups: groups, probes: missionProbes)
        problems += ChecklistValidator.problems(in: checklist, source: ChecklistSource(file: file, groups: sources))
        guard problems.isEmpty else { throw ChecklistError(problems: problems) }
        return checklist
    }

    package static func encode(_ checklist: Checklist) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and arrays cannot fail.
        return (try? encoder.encode(checklist)) ?? Data()
    }

    private static func stringArray(
        _ value: Any?,
        path: String,
        required: Bool,
        fail: (String?, String) -> Void
    ) -> [String] {
        guard let value, !(value is NSNull) else {
            if required { fail(path, "missing (an array of strings)") }
            return []
        }
        guard let array = value as? [Any] else {
            fail(path, "expected an array of strings")
            return []
        }
        var result: [String] = []
        for (index, element) in array.enumerated() {
            if let string = element as? String {
                result.append(string)
            } else {
                fail("\(path)[\(index)]", "expected a string")
            }
        }
        return result
    }

    private static func jsonErrorSummary(_ error: any Error) -> String {
        let nsError = error as NSError
        if let detail = nsError.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return "unreadable"
    }
}
