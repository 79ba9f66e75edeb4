/// The result of merging an attempt onto the target head without a working tree.
package enum MergeTreeResult: Sendable, Equatable {
    case clean(tree: String)
    case conflicted(files: [String], messages: String)
}

/// An author or committer identity for commits Flotilla makes.
package struct GitIdentity: Sendable, Equatable {
    package var name: String
    package var email: String

    package static let flotilla = GitIdentity(name: "Flotilla", email: "flotilla@localhost")

    /// The author of an attempt's commit: the agent backend that made it.
    package static func agent(_ backend: String) -> GitIdentity {
        GitIdentity(name: "Flotilla agent (\(backend))", email: "agent@flotilla.localhost")
    }
}

/// The git operations the mission loop needs, on one repository.
package protocol GitRepository: Sendable {
    /// The top level of the main working tree.
    var root: String { get }
    /// Where the repository keeps its objects.
    var objectsDirectory: String { get }
    /// The objects a sandboxed checkout's own repository may read: those reachable from the commits given to
    /// ``share(_:)``, and no other (no dangling blob of a file staged once, no unrelated branch).
    var sharedObjectsDirectory: String { get }

    /// The commit a revision names, or nil if it names none.
    func resolveCommit(_ revision: String) async throws -> String?
    /// The tree of a commit.
    func tree(of commit: String) async throws -> String
    /// Creates (or, with `force`, resets) a branch at a commit.
    func createBranch(_ name: String, at commit: String, force: Bool) async throws
    /// Deletes branches; names that do not exist are skipped.
    func deleteBranches(_ names: [String]) async throws
    func branchExists(_ name: String) async throws -> Bool
    /// Creates or moves a branch to a commit without checking it out (`git update-ref`).
    func pointBranch(_ name: String, at commit: String) async throws
    /// Makes `directory` exactly `commit`: tracked files as the commit has them, nothing else (untracked and ignored
    /// files, and whatever stands at `.git`, removed). `index` is Flotilla's own index of that directory, kept where
    /// no agent can reach it; a directory seen before is updated by what changed.
    func checkout(_ commit: String, into directory: String, index: String) async throws
    /// The files of `directory` as a commit whose parent is `parent`, through its `index`; nil when they are
    /// exactly `parent`'s. What the agent did to any repository (commits, branches) does not matter: its files do.
    func snapshot(
        _ directory: String,
        index: String,
        parent: String,
        message: String,
        author: GitIdentity
    ) async throws -> String?
    /// Gives an agent's checkout a repository of its own at `.git`, at `commit` (objects read from `objects`, never
    /// written to it): the agent may commit or switch branches there without touching anything
    /// Flotilla owns.
    func prepareOwnRepository(in directory: String, at commit: String, index: String, objects: String) throws
    /// Puts `commit` and everything reachable from it in ``sharedObjectsDirectory``.
    func share(_ commit: String) async throws
    /// ``checkout(_:into:index:)`` from a fresh index (no skip-worktree or assume-unchanged bit honoured), then each
    /// file hashed and compared with the id its commit names; returns the paths that differ (a rewritten object).
    func checkoutVerified(_ commit: String, into directory: String, index: String) async throws -> [String]
    /// Removes a checkout and its index, whatever an agent did to their permissions.
    func removeCheckout(_ directory: String, index: String) throws
    /// `tree` with `paths` as `source` has them (paths `source` lacks are left as they are).
    func tree(_ tree: String, restoring paths: [String], from source: String) async throws -> String
    /// Paths that differ between two commits (renames as both paths), with line counts.
    func changes(from: String, to: String) async throws -> (paths: [String], stat: DiffStat)
    /// What `to` adds over `from`: new files, and the growth in bytes of the files it adds or changes (no content
    /// is read but the sizes git already knows).
    func additions(from: String, to: String) async throws -> Additions
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
    /// The mode of `path` at `commit` (`0o100755` for an executable file), or nil if it does not exist there.
    func fileMode(at commit: String, path: String) async throws -> Int?
    /// Every file path of `commit`'s tree.
    func paths(at commit: String) async throws -> Set<String>
    /// The user's branches and tags (`refs/heads/…` but Flotilla's own `flotilla/…`, `refs/tags/…`), by name.
    func userRefs() async throws -> [String: String]
    /// Forgets worktrees whose directories are gone (missions from before checkouts were plain directories).
    func pruneWorktrees() async throws
    /// The branch checked out in the main working tree, nil when detached.
    func currentBranch() async throws -> String?
    /// Paths with uncommitted changes in the main working tree.
    func uncommittedPaths() async throws -> [String]
    /// Keeps `pattern` out of `git status` without touching tracked files (`.git/info/exclude`).
    func excludeLocally(_ pattern: String) async throws
    /// Pushes `commit` to `branch` of `remote` with a lease: only if the remote's branch is at `expected` (absent when
    /// nil), so that nobody else's work there is ever overwritten.
    func push(
        _ commit: String,
        to remote: String,
        branch: String,
        expecting expected: String?
    ) async throws
        -> PushOutcome
    /// Brings the main working tree and index from `old` to `new` (after the checked-out branch moved there), as a
    /// fast-forward would; fails rather than overwrite a change in the working tree.
    func advanceWorkingTree(from old: String, to new: String) async throws
}

/// What a push did.
package enum PushOutcome: Sendable, Equatable {
    case pushed
    /// The remote refused, or its branch was not where the lease expected: what git said.
    case refused(String)
}

/// What one commit adds over another (``GitRepository/additions(from:to:)``), for the caps on an attempt's size.
package struct Additions: Sendable, Equatable {
    /// Files that did not exist before.
    package var files: Int
    /// The growth in bytes of the added and changed files (a file that shrank counts nothing).
    package var bytes: Int
    /// The file that grew most, with its growth.
    package var largest: (path: String, bytes: Int)?

    package init(files: Int = 0, bytes: Int = 0, largest: (path: String, bytes: Int)? = nil) {
        self.files = files
        self.bytes = bytes
        self.largest = largest
    }

    package static func == (lhs: Additions, rhs: Additions) -> Bool {
        lhs.files == rhs.files && lhs.bytes == rhs.bytes && lhs.largest?.path == rhs.largest?.path
            && lhs.largest?.bytes == rhs.largest?.bytes
    }

    /// Counts a path that grew from `old` bytes (nil: it is new) to `new`.
    package mutating func count(_ path: String, old: Int?, new: Int) {
        if old == nil { files += 1 }
        let growth = max(0, new - (old ?? 0))
        bytes += growth
        if growth > (largest?.bytes ?? 0) { largest = (path, growth) }
    }
}
