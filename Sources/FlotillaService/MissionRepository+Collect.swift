import FlotillaCore
import FlotillaEngine
import FlotillaStore
import Foundation

/// A mission whose files `gc` removed (or would remove).
package struct CollectedMission: Sendable, Codable {
    package var id: String
    package var state: String
    package var finishedAt: Date
    /// Bytes its folder and checkouts held.
    package var bytes: Int64

    enum CodingKeys: String, CodingKey {
        case id, state, bytes
        case finishedAt = "finished_at"
    }
}

extension MissionRepository {
    /// Removes the files (`.flotilla/missions/ID`, leftover checkouts) of the missions that ended before `cutoff`.
    ///
    /// Their ledger rows, events and target branches stay, so `status`, `history` and `report` still answer.
    /// A mission that runs, waits to start or waits in a queue is never touched. With `dryRun` nothing is removed.
    package func collect(endedBefore cutoff: Date, dryRun: Bool) async throws -> [CollectedMission] {
        guard let ledger = try existingLedger() else { return [] }
        var collected: [CollectedMission] = []
        for record in try await ledger.missions(limit: nil).reversed() {
            guard case .ended = liveness(record), let finished = record.finishedAt, finished < cutoff else { continue }
            let id = record.spec.id
            let paths = [layout.missionDirectory(id), layout.worktrees(id)]
            let bytes = paths.reduce(Int64(0)) { $0 + Self.size(of: $1) }
            guard paths.contains(where: { FileManager.default.fileExists(atPath: $0) }) else { continue }
            if !dryRun {
                // Checkouts through git, so that it forgets them; then the folders.
                _ = await MissionCheckouts(git: composition.git(root), layout: layout).removeAll(id)
                for path in paths where FileManager.default.fileExists(atPath: path) {
                    try FileManager.default.removeItem(atPath: path)
                }
            }
            collected.append(
                CollectedMission(id: id.rawValue, state: record.state.rawValue, finishedAt: finished, bytes: bytes)
            )
        }
        return collected
    }

    /// The bytes of the regular files under `path`, links not followed.
    private static func size(of path: String) -> Int64 {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        while walker.nextObject() != nil {
            let attributes = walker.fileAttributes
            if attributes?[.type] as? FileAttributeType == .typeRegular {
                total += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            }
        }
        return total
    }
}
