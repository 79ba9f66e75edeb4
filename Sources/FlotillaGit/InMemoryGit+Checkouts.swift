import FlotillaCore
import Foundation
import Synchronization

/// Checkouts of the in-memory repository are real directories: written from a tree, read back into one.
extension InMemoryGit {
    package func checkout(_ commit: String, into directory: String, index: String) async throws {
        let tree = try state.withLock { try $0.tree(ofCommit: commit) }
        try Self.write(tree, into: directory, keeping: [])
    }

    package func checkoutVerified(_ commit: String, into directory: String, index: String) async throws -> [String] {
        try await checkout(commit, into: directory, index: index)
        return []
    }

    package func snapshot(
        _ directory: String,
        index: String,
        parent: String,
        message: String,
        author: GitIdentity
    ) async throws -> String? {
        let files = try Self.read(directory, skipping: [".git"])
        let treeID = state.withLock { $0.store(files) }
        guard treeID != (try await tree(of: parent)) else { return nil }
        return try await commitTree(treeID, parents: [parent], message: message, author: author)
    }

    /// A commit on `parent` with these files written over its tree (paths to text), for tests that make commits without
    /// a checkout.
    package func commit(
        writing files: [String: String],
        onto parent: String,
        message: String = "test"
    ) throws
        -> String
    {
        try state.withLock { state in
            var tree = try state.tree(ofCommit: parent)
            for (path, text) in files { tree[path] = File(contents: Data(text.utf8), mode: 0o100644) }
            let treeID = state.store(tree)
            let id = state.newID()
            state.commits[id] = Commit(tree: treeID, parents: [parent], message: message)
            return id
        }
    }

    package func share(_ commit: String) async throws {}

    package func prepareOwnRepository(in directory: String, at commit: String, index: String, objects: String) throws {
        let repository = (directory as NSString).appendingPathComponent(".git")
        try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
        try Data((commit + "\n").utf8).write(to: URL(fileURLWithPath: repository + "/HEAD"))
    }

    package func removeCheckout(_ directory: String, index: String) throws {
        for path in [directory, index] where FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
        }
    }

    /// Makes `directory` hold exactly `tree` (but the top-level names in `keeping`).
    static func write(_ tree: Tree, into directory: String, keeping: Set<String>) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in try manager.contentsOfDirectory(atPath: directory) where !keeping.contains(name) {
            try manager.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
        try writeFiles(of: tree, into: directory)
    }

    /// Writes every file of `tree` under `directory`, leaving other files as they are.
    static func writeFiles(of tree: Tree, into directory: String) throws {
        let manager = FileManager.default
        for (path, file) in tree {
            let full = (directory as NSString).appendingPathComponent(path)
            try manager.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            guard
                manager.createFile(
                    atPath: full,
                    contents: file.contents,
                    attributes: [.posixPermissions: file.mode == 0o100755 ? 0o755 : 0o644]
                )
            else { throw InMemoryGitError("cannot write \(full)") }
        }
    }

    /// The regular files under `directory` (but the top-level names in `skipping`) as a tree; symbolic links and
    /// other special files are left out, as a snapshot of an agent's checkout needs nothing else here.
    static func read(_ directory: String, skipping: [String]) throws -> Tree {
        let manager = FileManager.default
        var tree: Tree = [:]
        guard let walker = manager.enumerator(atPath: directory) else { return tree }
        while let path = walker.nextObject() as? String {
            let top = String(path.prefix { $0 != "/" })
            if skipping.contains(top) {
                walker.skipDescendants()
                continue
            }
            let full = (directory as NSString).appendingPathComponent(path)
            let attributes = try manager.attributesOfItem(atPath: full)
            guard attributes[.type] as? FileAttributeType == .typeRegular,
                let contents = manager.contents(atPath: full)
            else { continue }
            let permissions = (attributes[.posixPermissions] as? Int) ?? 0o644
            tree[path] = File(contents: contents, mode: permissions & 0o100 != 0 ? 0o100755 : 0o100644)
        }
        return tree
    }
}
