import FlotillaCore
import Foundation
import Synchronization

/// A ``GitRepository`` held in memory, which runs no process: a test of the loop's decisions takes milliseconds.
///
/// Commits, trees and refs are dictionaries; checkouts are written to real directories (agents and verify commands
/// work on files).
///
/// Beside ``GitCLI`` as an in-memory driver is beside a real one, with two simplifications its tests must not
/// depend on: a merge conflicts whenever both sides changed one file differently (git merges hunks that do not
/// overlap), and line counts of a change are a multiset difference of lines, not a diff.
package final class InMemoryGit: GitRepository {
    package let root: String
    package var objectsDirectory: String { (root as NSString).appendingPathComponent(".git/objects") }
    package var sharedObjectsDirectory: String { objectsDirectory }

    /// A file of a tree: its bytes and its mode (`0o100644`, `0o100755`).
    package struct File: Sendable, Hashable {
        package var contents: Data
        package var mode: Int
    }

    /// The files of a tree by path.
    package typealias Tree = [String: File]

    struct Commit {
        var tree: String
        var parents: [String]
        var message: String
    }

    struct State {
        var objects = 0
        var trees: [String: Tree] = [:]
        var treeIDs: [Tree: String] = [:]
        var commits: [String: Commit] = [:]
        var refs: [String: String] = [:]
        var head = "refs/heads/main"
        var excluded: [String] = []
        /// Branches of remotes by remote name: where pushes go.
        var remotes: [String: [String: String]] = [:]

        /// A fresh object id: 40 hex digits, as the ledger expects of git's.
        mutating func newID() -> String {
            objects += 1
            return String(repeating: "0", count: 24) + String(format: "%016x", objects)
        }

        mutating func store(_ tree: Tree) -> String {
            if let id = treeIDs[tree] { return id }
            let id = newID()
            trees[id] = tree
            treeIDs[tree] = id
            return id
        }

        func tree(ofCommit commit: String) throws -> Tree {
            guard let id = commits[commit]?.tree, let tree = trees[id] else {
                throw InMemoryGitError("no commit \(commit)")
            }
            return tree
        }

        func resolve(_ revision: String) -> String? {
            let name = revision.hasSuffix("^{commit}") ? String(revision.dropLast("^{commit}".count)) : revision
            if commits[name] != nil { return name }
            if name == "HEAD" { return refs[head] }
            for candidate in [name, "refs/heads/\(name)", "refs/tags/\(name)"] {
                if let commit = refs[candidate] { return commit }
            }
            return nil
        }

        /// `commit` and every commit it descends from, nearest first.
        func ancestry(_ commit: String) -> [String] {
            var seen: Set<String> = []
            var order: [String] = []
            var queue = [commit]
            while !queue.isEmpty {
                let next = queue.removeFirst()
                guard seen.insert(next).inserted else { continue }
                order.append(next)
                queue += commits[next]?.parents ?? []
            }
            return order
        }
    }

    let state = Mutex(State())
    /// Runs before each push, so that a test can hold pushes (``holdPushes(until:)``).
    let beforePush = Mutex<(@Sendable () async -> Void)?>(nil)

    /// A repository whose `main` branch has one commit of `files` (paths to text; `executables` get mode 755),
    /// also written to `root` as the main working tree.
    package init(root: String, files: [String: String], executables: Set<String> = []) throws {
        self.root = root
        var tree: Tree = [:]
        for (path, text) in files {
            tree[path] = File(contents: Data(text.utf8), mode: executables.contains(path) ? 0o100755 : 0o100644)
        }
        try FileManager.default.createDirectory(atPath: objectsDirectory, withIntermediateDirectories: true)
        try Self.write(tree, into: root, keeping: [".git", ".flotilla"])
        state.withLock { state in
            let treeID = state.store(tree)
            let commit = state.newID()
            state.commits[commit] = Commit(tree: treeID, parents: [], message: "initial")
            state.refs["refs/heads/main"] = commit
        }
    }

    // MARK: Reading

    package func resolveCommit(_ revision: String) async throws -> String? {
        state.withLock { $0.resolve(revision) }
    }

    package func tree(of commit: String) async throws -> String {
        try state.withLock { state in
            guard let tree = state.commits[commit]?.tree else { throw InMemoryGitError("no commit \(commit)") }
            return tree
        }
    }

    package func fileContents(at commit: String, path: String) async throws -> String? {
        try state.withLock { try $0.tree(ofCommit: commit)[path] }.map { String(decoding: $0.contents, as: UTF8.self) }
    }

    package func fileMode(at commit: String, path: String) async throws -> Int? {
        try state.withLock { try $0.tree(ofCommit: commit)[path]?.mode }
    }

    package func paths(at commit: String) async throws -> Set<String> {
        try state.withLock { Set(try $0.tree(ofCommit: commit).keys) }
    }

    package func commits(from base: String, to head: String) async throws -> [String] {
        state.withLock { state in
            let reachable = Set(state.ancestry(base))
            return state.ancestry(head).filter { !reachable.contains($0) }.reversed()
        }
    }

    package func changes(from: String, to: String) async throws -> (paths: [String], stat: DiffStat) {
        let (old, new) = try state.withLock { (try $0.tree(ofCommit: from), try $0.tree(ofCommit: to)) }
        var stat = DiffStat()
        let paths = Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }.sorted()
        for path in paths {
            let before = Self.lines(old[path]?.contents)
            let after = Self.lines(new[path]?.contents)
            stat.files += 1
            stat.insertions += Self.unmatched(after, in: before)
            stat.deletions += Self.unmatched(before, in: after)
        }
        return (paths, stat)
    }

    package func additions(from: String, to: String) async throws -> Additions {
        let (old, new) = try state.withLock { (try $0.tree(ofCommit: from), try $0.tree(ofCommit: to)) }
        var additions = Additions()
        for (path, file) in new.sorted(by: { $0.key < $1.key }) where old[path] != file {
            additions.count(path, old: old[path].map { $0.contents.count }, new: file.contents.count)
        }
        return additions
    }

    package func diff(from: String, to: String) async throws -> String {
        let (old, new) = try state.withLock { (try $0.tree(ofCommit: from), try $0.tree(ofCommit: to)) }
        var text = ""
        for path in Set(old.keys).union(new.keys).sorted() where old[path] != new[path] {
            text += "--- a/\(path)\n+++ b/\(path)\n"
            text += Self.lines(old[path]?.contents).map { "-\($0)\n" }.joined()
            text += Self.lines(new[path]?.contents).map { "+\($0)\n" }.joined()
        }
        return text
    }

    /// The message of a commit, for tests that check what a landing said.
    package func commitMessage(_ commit: String) -> String? {
        state.withLock { $0.commits[commit]?.message }
    }

    package func userRefs() async throws -> [String: String] {
        state.withLock { state in
            state.refs.filter {
                ($0.key.hasPrefix("refs/heads/") && !$0.key.hasPrefix("refs/heads/flotilla/"))
                    || $0.key.hasPrefix("refs/tags/")
            }
        }
    }

    package func currentBranch() async throws -> String? {
        state.withLock { String($0.head.dropFirst("refs/heads/".count)) }
    }

    package func uncommittedPaths() async throws -> [String] {
        let excluded = state.withLock { $0.excluded }
        let onDisk = try Self.read(root, skipping: [".git", ".flotilla"] + excluded)
        let committed = try state.withLock { state -> Tree in
            guard let head = state.refs[state.head] else { return [:] }
            return try state.tree(ofCommit: head)
        }
        return Set(onDisk.keys).union(committed.keys).filter { onDisk[$0] != committed[$0] }.sorted()
    }

    // MARK: Refs

    package func createBranch(_ name: String, at commit: String, force: Bool) async throws {
        try state.withLock { state in
            guard let target = state.resolve(commit) else { throw InMemoryGitError("no commit \(commit)") }
            let ref = "refs/heads/\(name)"
            if state.refs[ref] != nil && !force { throw InMemoryGitError("branch \(name) exists") }
            state.refs[ref] = target
        }
    }

    package func deleteBranches(_ names: [String]) async throws {
        state.withLock { state in for name in names { state.refs["refs/heads/\(name)"] = nil } }
    }

    package func branchExists(_ name: String) async throws -> Bool {
        state.withLock { $0.refs["refs/heads/\(name)"] != nil }
    }

    package func pointBranch(_ name: String, at commit: String) async throws {
        try state.withLock { state in
            guard state.commits[commit] != nil else { throw InMemoryGitError("no commit \(commit)") }
            state.refs["refs/heads/\(name)"] = commit
        }
    }

    package func updateRef(_ ref: String, to newCommit: String, expecting expected: String) async throws -> Bool {
        let fullRef = ref.hasPrefix("refs/") ? ref : "refs/heads/\(ref)"
        return state.withLock { state in
            let current = state.refs[fullRef] ?? String(repeating: "0", count: 40)
            guard current == expected else { return false }
            state.refs[fullRef] = newCommit
            return true
        }
    }

    /// Moves a ref as someone else would (an agent's push, the user's commit): no compare, no record.
    package func forceRef(_ ref: String, to commit: String?) {
        state.withLock { $0.refs[ref] = commit }
    }

    package func pruneWorktrees() async throws {}

    package func excludeLocally(_ pattern: String) async throws {
        let name = pattern.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        state.withLock { state in if !state.excluded.contains(name) { state.excluded.append(name) } }
    }

    // MARK: Objects

    package func commitTree(
        _ tree: String,
        parents: [String],
        message: String,
        author: GitIdentity
    ) async throws
        -> String
    {
        try state.withLock { state in
            guard state.trees[tree] != nil else { throw InMemoryGitError("no tree \(tree)") }
            let id = state.newID()
            state.commits[id] = Commit(tree: tree, parents: parents, message: message)
            return id
        }
    }

    package func tree(_ tree: String, restoring paths: [String], from source: String) async throws -> String {
        try state.withLock { state in
            guard var files = state.trees[tree] else { throw InMemoryGitError("no tree \(tree)") }
            let original = try state.tree(ofCommit: source)
            func under(_ path: String, _ prefix: String) -> Bool { path == prefix || path.hasPrefix(prefix + "/") }
            for prefix in paths where original.keys.contains(where: { under($0, prefix) }) {
                files = files.filter { !under($0.key, prefix) }
                for (path, file) in original where under(path, prefix) { files[path] = file }
            }
            return state.store(files)
        }
    }

    package func mergeTree(ours: String, theirs: String) async throws -> MergeTreeResult {
        try state.withLock { state in
            let oursTree = try state.tree(ofCommit: ours)
            let theirsTree = try state.tree(ofCommit: theirs)
            let base = state.ancestry(theirs).first(where: Set(state.ancestry(ours)).contains)
            let baseTree = try base.map { try state.tree(ofCommit: $0) } ?? [:]
            var merged: Tree = [:]
            var conflicts: [String] = []
            for path in Set(oursTree.keys).union(theirsTree.keys).union(baseTree.keys).sorted() {
                let (mine, yours, common) = (oursTree[path], theirsTree[path], baseTree[path])
                let result: File?
                if mine == yours || yours == common {
                    result = mine
                } else if mine == common {
                    result = yours
                } else {
                    conflicts.append(path)
                    continue
                }
                if let result { merged[path] = result }
            }
            if !conflicts.isEmpty {
                return .conflicted(
                    files: conflicts,
                    messages: conflicts.map { "CONFLICT (content): Merge conflict in \($0)" }.joined(separator: "\n")
                )
            }
            return .clean(tree: state.store(merged))
        }
    }

    /// The lines of a file (a final newline ends the last line, as git counts).
    private static func lines(_ data: Data?) -> [String] {
        guard let data, !data.isEmpty else { return [] }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines.map(String.init)
    }

    /// How many of `lines` are not matched by a line of `other` (a multiset difference).
    private static func unmatched(_ lines: [String], in other: [String]) -> Int {
        var available: [String: Int] = [:]
        for line in other { available[line, default: 0] += 1 }
        var count = 0
        for line in lines {
            if let left = available[line], left > 0 { available[line] = left - 1 } else { count += 1 }
        }
        return count
    }
}

/// A failure of the in-memory repository: a commit, tree or branch that is not there.
package struct InMemoryGitError: Error, CustomStringConvertible {
    package var description: String

    init(_ description: String) {
        self.description = description
    }
}
