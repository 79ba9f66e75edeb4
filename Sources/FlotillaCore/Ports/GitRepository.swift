/// The result of merging an attempt onto the target head without a working tree.
package enum MergeTreeResult: Sendable, Equatable {
    case clean(tree: String)
    case conflicted(files: [String], messages: String)
}

/// An author or committer identity for commits Flotilla makes.
package struct GitIdentity: Sendable, Equatable {
    package var name: String
    package var email: String

    package init(name: String, email: String) {
        self.name = name
        self.email = email
    }

    package static let flotilla = GitIdentity(name: "Flotilla", email: "flotilla@localhost")
}

/// The git operations the mission loop needs, on one repository.
package protocol GitRepository: Sendable {
    /// The top level of the main working tree.
    var root: String { get }

    /// The commit a revision names, or nil if it names none.
    func resolveCommit(_ revision: String) async throws -> String?
    /// The tree of a commit.
    func tree(of commit: String) async throws -> String
    /// Creates (or, with `force`, resets) a branch at a commit.
    func createBranch(_ name: String, at commit: String, force: Bool) async throws
    /// Deletes branches; names that do not exist are skipped.
    func deleteBranches(_ names: [String]) async throws
    func branchExists(_ name: String) async throws -> Bool
    /// Adds a detached worktree at `path` at `commit`.
    func addDetachedWorktree(path: String, at commit: String) async throws
    func removeWorktree(path: String) async throws
    /// Makes an existing worktree exactly `commit`, detached: tracked files reset, untracked and ignored files
    /// removed — the contents a fresh worktree would have.
    func resetWorktree(path: String, at commit: String) async throws
    /// Creates or moves a branch to a commit without checking it out (`git update-ref`).
    func pointBranch(_ name: String, at commit: String) async throws
    /// Checks out `commit` detached in an existing worktree and removes untracked files.
    func checkoutDetached(worktree: String, at commit: String) async throws
    /// Commits every change in the worktree (new, modified, deleted files); nil when nothing changed.
    func commitAll(worktree: String, message: String, author: GitIdentity) async throws -> String?
    /// Paths that differ between two commits (renames as both paths), with line counts.
    func changes(from: String, to: String) async throws -> (paths: [String], stat: DiffStat)
    /// The patch between two commits, for the record.
    func diff(from: String, to: String) async throws -> String
    /// Merges `theirs` onto `ours` (`git merge-tree --write-tree`): no working tree, no index.
    func mergeTree(ours: String, theirs: String) async throws -> MergeTreeResult
    /// Creates a commit object for a tree with the given parents.
    func commitTree(_ tree: String, parents: [String], message: String, author: GitIdentity) async throws -> String
    /// Moves `ref` to `newCommit` only if it still points at `expected`; false when it moved meanwhile.
    func updateRef(_ ref: String, to newCommit: String, expecting expected: String) async throws -> Bool
    /// The contents of `path` at `commit`, or nil if it does not exist there.
    func fileContents(at commit: String, path: String) async throws -> String?
    /// Commits reachable from `head` and not from `base`, oldest first.
    func commits(from base: String, to head: String) async throws -> [String]
    /// Forgets worktrees whose directories are gone.
    func pruneWorktrees() async throws
    /// The branch checked out in the main working tree, nil when detached.
    func currentBranch() async throws -> String?
    /// Paths with uncommitted changes in the main working tree.
    func uncommittedPaths() async throws -> [String]
    /// Keeps `pattern` out of `git status` without touching tracked files (`.git/info/exclude`).
    func excludeLocally(_ pattern: String) async throws
}
