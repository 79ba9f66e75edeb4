import FlotillaCore
import Foundation
import Synchronization

/// Pushes go to in-memory remotes (by name), with the same lease; the working tree is rewritten from the new commit.
extension InMemoryGit {
    package func push(
        _ commit: String,
        to remote: String,
        branch: String,
        expecting expected: String?
    ) async throws
        -> PushOutcome
    {
        if let hold = beforePush.withLock({ $0 }) { await hold() }
        return state.withLock { state in
            let current = state.remotes[remote]?[branch]
            guard current == expected else {
                return .refused(
                    "stale info: \(remote)'s \(branch) is at \(current ?? "nothing"), not \(expected ?? "nothing")"
                )
            }
            state.remotes[remote, default: [:]][branch] = commit
            return .pushed
        }
    }

    /// Makes each push wait for `hold` first (a test's signal), to see what happens meanwhile.
    package func holdPushes(until hold: @escaping @Sendable () async -> Void) {
        beforePush.withLock { $0 = hold }
    }

    /// The commit `remote`'s `branch` holds, for tests.
    package func remoteBranch(_ remote: String, _ branch: String) -> String? {
        state.withLock { $0.remotes[remote]?[branch] }
    }

    package func advanceWorkingTree(from old: String, to new: String) async throws {
        let (before, after) = try state.withLock { (try $0.tree(ofCommit: old), try $0.tree(ofCommit: new)) }
        // As `read-tree -m -u`: tracked files must be as `old` has them; untracked ones are left alone.
        let tracked = Set(before.keys).union(after.keys)
        let onDisk = try Self.read(root, skipping: [".git", ".flotilla"])
        if let changed = tracked.sorted().first(where: { onDisk[$0] != before[$0] && onDisk[$0] != after[$0] }) {
            throw InMemoryGitError("\(changed) has changes in the working tree; not overwriting them")
        }
        let manager = FileManager.default
        for path in before.keys where after[path] == nil {
            try? manager.removeItem(atPath: (root as NSString).appendingPathComponent(path))
        }
        try Self.writeFiles(of: after, into: root)
    }
}
