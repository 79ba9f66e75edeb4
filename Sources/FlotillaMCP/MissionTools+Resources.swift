import FlotillaAPI
import FlotillaCore
import Foundation
import MCP

/// The resources: a mission's checklist and log, an attempt's transcript and diff, and its pipeline steps' files,
/// under `flotilla://`.
extension MissionTools {
    static let templates: [Resource.Template] = [
        .init(
            uriTemplate: "flotilla://missions/{id}/checklist",
            name: "checklist",
            description: "The mission's acceptance checklist (Markdown).",
            mimeType: "text/markdown"
        ),
        .init(
            uriTemplate: "flotilla://missions/{id}/log",
            name: "log",
            description: "Every event of the mission, one per line.",
            mimeType: "text/plain"
        ),
        .init(
            uriTemplate: "flotilla://missions/{id}/attempts/{sequence}/transcript",
            name: "transcript",
            description: "What the agent printed in one attempt (its last 256 KiB).",
            mimeType: "text/plain"
        ),
        .init(
            uriTemplate: "flotilla://missions/{id}/attempts/{sequence}/diff",
            name: "diff",
            description: "One attempt's change, as a patch.",
            mimeType: "text/x-diff"
        ),
        .init(
            uriTemplate: "flotilla://missions/{id}/attempts/{sequence}/steps/{step}/{file}",
            name: "step file",
            description:
                "A file of one pipeline step's folder ({step} as the attempt's steps list it, 02_implement.1): "
                + "prompt.md, transcript.log, patch.diff, result.json, or out/NAME.",
            mimeType: "text/plain"
        ),
    ]

    /// The checklist and log of the 20 newest missions (attempts are reached through the templates).
    func resources() async throws -> [Resource] {
        try await service.missions(in: nil).prefix(20).flatMap { mission in
            [
                Resource(
                    name: "\(mission.id) checklist",
                    uri: "flotilla://missions/\(mission.id)/checklist",
                    description: mission.goal,
                    mimeType: "text/markdown"
                ),
                Resource(
                    name: "\(mission.id) log",
                    uri: "flotilla://missions/\(mission.id)/log",
                    description: "\(mission.state): \(mission.goal)",
                    mimeType: "text/plain"
                ),
            ]
        }
    }

    func read(_ uri: String) async throws -> ReadResource.Result {
        let parts =
            uri.hasPrefix("flotilla://missions/")
            ? uri.dropFirst("flotilla://missions/".count).split(separator: "/") : []
        guard let first = parts.first, let id = MissionID(String(first)) else {
            throw FlotillaError.notFound("no resource \(uri); resources/templates/list names the ones there are")
        }
        switch parts.dropFirst().map(String.init) {
        case ["checklist"]:
            return .init(contents: [
                .text(try await service.checklist(id).markdown, uri: uri, mimeType: "text/markdown")
            ])
        case ["log"]:
            _ = try await service.require(id)
            return .init(contents: [.text(try await log(id, lines: Int.max), uri: uri, mimeType: "text/plain")])
        case let rest where rest.count == 3 && rest[0] == "attempts" && ["transcript", "diff"].contains(rest[2]):
            guard let sequence = Int(rest[1]), sequence > 0 else {
                throw FlotillaError.invalid("\(uri): \(rest[1]) is not an attempt's sequence number")
            }
            let detail = try await service.attempt(id, sequence: sequence)
            let text = (rest[2] == "diff" ? detail.diff : detail.transcript) ?? ""
            return .init(contents: [.text(text, uri: uri, mimeType: rest[2] == "diff" ? "text/x-diff" : "text/plain")])
        case let rest where rest.count >= 5 && rest[0] == "attempts" && rest[2] == "steps":
            guard let sequence = Int(rest[1]), sequence > 0 else {
                throw FlotillaError.invalid("\(uri): \(rest[1]) is not an attempt's sequence number")
            }
            let file = try await service.stepFile(
                id,
                sequence: sequence,
                folder: rest[3],
                file: rest[4...].joined(separator: "/")
            )
            let type =
                file.file.hasSuffix(".json")
                ? "application/json"
                : file.file.hasSuffix(".md")
                    ? "text/markdown"
                    : file.file.hasSuffix(".diff") ? "text/x-diff" : "text/plain"
            return .init(contents: [.text(file.text, uri: uri, mimeType: type)])
        default:
            throw FlotillaError.notFound("no resource \(uri); resources/templates/list names the ones there are")
        }
    }
}
