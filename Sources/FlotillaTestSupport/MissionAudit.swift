import FlotillaCore
import FlotillaStore
import Foundation

/// Reads back what a mission left in a repository: its ledger, its files and its target branch.
package struct MissionAudit: Sendable {
    package let repository: FixtureRepository
    package let ledger: SQLiteLedger
    package let mission: MissionRecord

    /// The repository's only (or latest) mission.
    package init(_ repository: FixtureRepository) async throws {
        self.repository = repository
        let path = repository.directory.file(".flotilla/ledger.sqlite")
        guard FileManager.default.fileExists(atPath: path) else { throw FixtureError("no ledger at \(path)") }
        ledger = try SQLiteLedger(path: path)
        guard let latest = try await ledger.missions(limit: 1).first else {
            throw FixtureError("the ledger has no mission")
        }
        mission = latest
    }

    package var id: MissionID { mission.spec.id }
    package var missionDirectory: String { repository.directory.file(".flotilla/missions/\(id)") }
    /// Where the mission's checkouts live while it runs.
    package var checkoutsDirectory: String { repository.directory.file(".flotilla/worktrees/\(id)") }

    package func attempts() async throws -> [AttemptRecord] { try await ledger.attempts(of: id) }
    package func groups() async throws -> [GroupRecord] { try await ledger.groups(of: id) }
    package func events() async throws -> [MissionEvent] { try await ledger.events(of: id, after: 0, limit: 100_000) }
    package func verifications() async throws -> [VerificationRecord] { try await ledger.verifications(of: id) }
    package func steps() async throws -> [AttemptStepRecord] { try await ledger.steps(of: id) }

    package func attempt(_ group: String, _ number: Int) async throws -> AttemptRecord? {
        try await attempts().first { $0.key == AttemptKey(group: group, number: number) }
    }

    package func prompt(_ group: String, _ number: Int) throws -> String {
        try String(contentsOfFile: missionDirectory + "/agent_outputs/\(group)-\(number).prompt.md", encoding: .utf8)
    }

    package func targetHead() async -> String? {
        await repository.resolve("refs/heads/\(mission.spec.targetBranch)")
    }

    /// Commits on the target branch since the base that lack a passing verification of exactly that commit.
    ///
    /// Main stays green: this must always be empty.
    package func unverifiedTargetCommits() async throws -> [String] {
        guard let head = await targetHead() else { throw FixtureError("the target branch is gone") }
        let commits = try await repository.commits(mission.spec.baseCommit, head)
        let verified = Set(
            try await verifications().filter { $0.verification.passed && $0.verification.kind != .gate }
                .map(\.verification.commit)
        )
        return commits.filter { !verified.contains($0) }
    }

    /// The events of `events.jsonl`, which must match the ledger's.
    package func eventsFile() throws -> [MissionEvent] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard let date = formatter.date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
            }
            return date
        }
        let text = try String(contentsOfFile: missionDirectory + "/events.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { try decoder.decode(MissionEvent.self, from: Data($0.utf8)) }
    }

    /// Worktrees and attempt branches a finished mission must not leave behind.
    package func leftovers() async throws -> [String] {
        let worktrees = try await repository.worktrees().filter { $0 != repository.path }
        let checkouts = (try? FileManager.default.contentsOfDirectory(atPath: checkoutsDirectory)) ?? []
        let branches = try await repository.branches().filter { $0.hasPrefix("flotilla/attempts/") }
        return worktrees + checkouts.map { "checkout \($0)" } + branches
    }
}
