import FlotillaAPI
import FlotillaCore
import Foundation

/// The bodies of the routes a human answers and hands off with: approve, reject and land.
extension APIServer {
    /// The body of `POST /missions/{id}/approve`: none, or exactly `{"groups": ["id", …]}`.
    static func approvedGroups(_ body: Data) throws -> [String] {
        guard !body.isEmpty else { return [] }
        let problem = FieldProblem(field: "groups", message: "must be an array of group ids, the body's only field")
        guard case .object(let object)? = try? APIJSON.decoder.decode(JSONValue.self, from: body),
            Set(object.keys).isSubset(of: ["groups"])
        else { throw FlotillaError.invalid("the body must be {\"groups\": [\"group_id\", …]}", fields: [problem]) }
        guard let value = object["groups"] else { return [] }
        guard case .array(let items) = value,
            case let groups = items.compactMap(\.stringValue), groups.count == items.count, !groups.contains("")
        else { throw FlotillaError.invalid("the body must be {\"groups\": [\"group_id\", …]}", fields: [problem]) }
        return groups
    }

    /// The body of `POST /missions/{id}/reject`: `{"reason": "…", "groups": [...]}` (groups optional).
    static func rejection(_ body: Data) throws -> RejectionRequestDTO {
        let shape = "the body must be {\"reason\": \"why\", \"groups\": [\"group_id\", …]}"
        guard case .object(let object)? = try? APIJSON.decoder.decode(JSONValue.self, from: body),
            Set(object.keys).isSubset(of: ["groups", "reason"])
        else {
            throw FlotillaError.invalid(shape, fields: [FieldProblem(field: "(body)", message: "must be that object")])
        }
        guard let reason = object["reason"]?.stringValue,
            !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else {
            throw FlotillaError.invalid(
                "reason must be a non-empty string: the next attempt is told it",
                fields: [FieldProblem(field: "reason", message: "must be a non-empty string")]
            )
        }
        var groups: [String] = []
        if let value = object["groups"] {
            guard case .array(let items) = value,
                case let names = items.compactMap(\.stringValue), names.count == items.count, !names.contains("")
            else {
                throw FlotillaError.invalid(
                    shape,
                    fields: [FieldProblem(field: "groups", message: "must be an array of group ids")]
                )
            }
            groups = names
        }
        return RejectionRequestDTO(groups: groups, reason: reason)
    }

    /// The body of `POST /missions/{id}/check`: `{"groups": ["id", …], "commit": "REF"}`, both optional.
    static func check(_ body: Data) throws -> CheckRequestDTO {
        if body.isEmpty { return CheckRequestDTO() }
        guard case .object(let object)? = try? APIJSON.decoder.decode(JSONValue.self, from: body),
            Set(object.keys).isSubset(of: ["groups", "commit"])
        else {
            throw FlotillaError.invalid(
                "the body must be {\"groups\": [\"id\", …], \"commit\": \"REF\"}, both optional"
            )
        }
        var request = CheckRequestDTO()
        if let groups = object["groups"] {
            guard case .array(let items) = groups, items.count <= 1000,
                let names = Optional(items.compactMap(\.stringValue)), names.count == items.count,
                names.allSatisfy(GroupIdentifier.isValid)
            else {
                throw FlotillaError.invalid(
                    "groups must be an array of group ids",
                    fields: [FieldProblem(field: "groups", message: "must be an array of group ids")]
                )
            }
            request.groups = names
        }
        if let commit = object["commit"] {
            guard let text = commit.stringValue, !text.isEmpty, text.count <= 256, !text.hasPrefix("-"),
                !text.contains(where: { $0.isWhitespace || $0 == ":" })
            else {
                throw FlotillaError.invalid(
                    "commit must be a commit id or a branch name",
                    fields: [FieldProblem(field: "commit", message: "must be a commit id or a branch name")]
                )
            }
            request.commit = text
        }
        return request
    }

    /// The body of `POST /missions/{id}/land`: `{"onto": "branch"}`.
    static func landing(_ body: Data) throws -> String {
        guard case .object(let object)? = try? APIJSON.decoder.decode(JSONValue.self, from: body),
            Set(object.keys) == ["onto"], let onto = object["onto"]?.stringValue, !onto.isEmpty,
            !onto.hasPrefix("-"), !onto.contains(".."), !onto.contains(where: { $0.isWhitespace || $0 == ":" })
        else {
            throw FlotillaError.invalid(
                "the body must be {\"onto\": \"branch\"}, a local branch name",
                fields: [FieldProblem(field: "onto", message: "must be a local branch name")]
            )
        }
        return onto
    }
}
