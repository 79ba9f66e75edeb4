import FlotillaCore
import Foundation
import Synchronization

/// The real ``GitRepository``: runs the `git` command line through a ``ProcessRunner``.
///
/// Every invocation disables hooks and signing and pins the locale, so that an agent cannot get code run
/// through a hook Flotilla triggers, a user's signing setup cannot prompt, and messages parse the same everywhere.
package struct GitCLI: GitRepository {
    package let root: String
    private let runner: any ProcessRunner
    private let environment: [String: String]
    /// Git is not safe for changes to `.git/worktrees` while another command reads it (adding a worktree while
    /// another is being checked fails with "failed to read …/commondir"): changes take the write side of this
    /// per-repository lock, commands that walk the worktrees (checking out a branch) the read side.
    private let administration: AsyncReadWriteLock

    /// Creates an adapter for one repository.
    ///
    /// - Parameters:
    ///   - root: The top level of the repository's main working tree.
    ///   - runner: Runs the git processes.
    ///   - environment: The allowlisted environment git runs with (it needs `PATH` and `HOME`).
    package init(root: String, runner: any ProcessRunner, environment: [String: String]) {
        self.root = root
        self.runner = runner
        var environment = environment
        environment["LC_ALL"] = "C"
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["GIT_OPTIONAL_LOCKS"] = "0"
        self.environment = environment
        self.administration = RepositoryLocks.lock(for: root)
    }

    /// The top level of the repository containing `path`, or nil when `path` is not inside one.
    package static func discoverRoot(
        from path: String,
        runner: any ProcessRunner,
        environment: [String: String]
    ) async throws -> String? {
        let git = GitCLI(root: path, runner: runner, environment: environment)
        let result = try await git.run(["rev-parse", "--show-toplevel"], in: path, check: false)
        guard result.termination.isSuccess else { return nil }
        return result.standardOutput.trimmingWhitespace()
    }

    package func resolveCommit(_ revision: String) async throws -> String? {
        let result = try await run(["rev-parse", "--verify", "--quiet", "\(revision)^{commit}"], check: false)
        guard result.termination.isSuccess else { return nil }
        return result.standardOutput.trimmingWhitespace()
    }

    package func tree(of commit: String) async throws -> String {
        try await run(["rev-parse", "--verify", "\(commit)^{tree}"]).standardOutput.trimmingWhitespace()
    }

    package func createBranch(_ name: String, at commit: String, force: Bool) async throws {
        try await administration.withWriteLock {
            try await run(["branch"] + (force ? ["--force"] : []) + ["--", name, commit])
        }
    }

    package func deleteBranches(_ names: [String]) async throws {
        guard !names.isEmpty else { return }
        // In batches, so that thousands of attempt branches take a few processes, not thousands.
        for start in stride(from: 0, to: names.count, by: 200) {
            let batch = Array(names[start..<min(names.count, start + 200)])
            try await administration.withWriteLock {
                // Refs that are already gone make `branch -D` fail: delete the ones that exist.
                let existing = try await run(
                    ["for-each-ref", "--format=%(refname:short)"] + batch.map { "refs/heads/\($0)" }
                ).standardOutput.split(separator: "\n").map(String.init)
                if !existing.isEmpty { try await run(["branch", "-D", "--"] + existing) }
            }
        }
    }

    package func branchExists(_ name: String) async throws -> Bool {
        try await run(["show-ref", "--verify", "--quiet", "refs/heads/\(name)"], check: false).termination.isSuccess
    }

    package func currentBranch() async throws -> String? {
        let result = try await run(["symbolic-ref", "--short", "--quiet", "HEAD"], check: false)
        guard result.termination.isSuccess else { return nil }
        return result.standardOutput.trimmingWhitespace()
    }

    package func addDetachedWorktree(path: String, at commit: String) async throws {
        try await administration.withWriteLock {
            try await run(["worktree", "add", "--quiet", "--detach", path, commit])
        }
    }

    package func removeWorktree(path: String) async throws {
        try await administration.withWriteLock {
            let result = try await run(["worktree", "remove", "--force", "--force", path], check: false)
            if !result.termination.isSuccess {
                // A worktree whose directory is already gone only needs pruning.
                try? FileManager.default.removeItem(atPath: path)
                try await run(["worktree", "prune"])
            }
        }
    }

    package func resetWorktree(path: String, at commit: String) async throws {
        // Detached: unlike checking out a branch, this does not walk the other worktrees, and it is quicker.
        try await administration.withReadLock {
            try await run(["checkout", "--quiet", "--force", "--detach", commit], in: path)
        }
        try await run(["clean", "-ffdxq"], in: path)
    }

    package func pointBranch(_ name: String, at commit: String) async throws {
        try await run(["update-ref", "refs/heads/\(name)", commit])
    }

    package func checkoutDetached(worktree: String, at commit: String) async throws {
        try await run(["checkout", "--quiet", "--force", "--detach", commit], in: worktree)
        // Exactly the commit: no untracked or ignored leftovers from an earlier verify.
        try await run(["clean", "-ffdxq"], in: worktree)
    }

    package func commitAll(worktree: String, message: String, author: GitIdentity) async throws -> String? {
        try await run(["add", "--all"], in: worktree)
        let commit = try await run(
            ["commit", "--quiet", "--no-verify", "--allow-empty-message", "-m", message],
            in: worktree,
            identity: author,
            check: false
        )
        if !commit.termination.isSuccess {
            // Nothing staged is the usual reason, and not an error: ask rather than read the message.
            let staged = try await run(["diff", "--cached", "--quiet"], in: worktree, check: false)
            if staged.termination.isSuccess { return nil }
            throw GitError(arguments: ["commit"], result: commit)
        }
        return try await run(["rev-parse", "HEAD"], in: worktree).standardOutput.trimmingWhitespace()
    }

    package func changes(from: String, to: String) async throws -> (paths: [String], stat: DiffStat) {
        // Without rename detection a rename lists both paths, so moving a protected file away is seen.
        let output = try await run(["diff", "--numstat", "--no-renames", "-z", from, to], complete: true)
        var paths: [String] = []
        var stat = DiffStat()
        for record in output.standardOutput.split(separator: "\0") {
            let fields = record.split(separator: "\t", maxSplits: 2)
            guard fields.count == 3 else { continue }
            paths.append(String(fields[2]))
            stat.files += 1
            stat.insertions += Int(fields[0]) ?? 0
            stat.deletions += Int(fields[1]) ?? 0
        }
        return (paths, stat)
    }

    package func diff(from: String, to: String) async throws -> String {
        try await run(["diff", "--no-renames", "--no-color", from, to]).standardOutput
    }

    package func mergeTree(ours: String, theirs: String) async throws -> MergeTreeResult {
        let result = try await run(
            ["merge-tree", "--write-tree", "--name-only", "-z", "--messages", ours, theirs],
            check: false,
            complete: true
        )
        switch result.termination {
        case .exited(0):
            let tree = result.standardOutput.split(separator: "\0", omittingEmptySubsequences: false).first ?? ""
            return .clean(tree: String(tree).trimmingWhitespace())
        case .exited(1):
            return Self.parseConflict(result.standardOutput)
        default:
            throw GitError(arguments: ["merge-tree", ours, theirs], result: result)
        }
    }

    /// Reads `merge-tree -z --name-only --messages` output: the tree, the conflicted paths, an empty field,
    /// then messages as `<path count>, <paths…>, <type>, <text>`.
    static func parseConflict(_ output: String) -> MergeTreeResult {
        var fields = output.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)[...]
        _ = fields.popFirst()
        var files: [String] = []
        while let field = fields.popFirst(), !field.isEmpty { files.append(field) }
        var messages: [String] = []
        while let countField = fields.popFirst(), let count = Int(countField) {
            fields = fields.dropFirst(count)
            _ = fields.popFirst()
            if let text = fields.popFirst() { messages.append(text.trimmingWhitespace()) }
        }
        var seen = Set<String>()
        return .conflicted(
            files: files.filter { seen.insert($0).inserted },
            messages: messages.filter { $0.hasPrefix("CONFLICT") }.joined(separator: "\n")
        )
    }

    package func commitTree(
        _ tree: String,
        parents: [String],
        message: String,
        author: GitIdentity
    ) async throws -> String {
        var arguments = ["commit-tree", tree]
        for parent in parents { arguments += ["-p", parent] }
        arguments += ["-m", message]
        return try await run(arguments, identity: author).standardOutput.trimmingWhitespace()
    }

    package func updateRef(_ ref: String, to newCommit: String, expecting expected: String) async throws -> Bool {
        let fullRef = ref.hasPrefix("refs/") ? ref : "refs/heads/\(ref)"
        let result = try await run(["update-ref", fullRef, newCommit, expected], check: false)
        if result.termination.isSuccess { return true }
        // A compare-and-swap that lost: the ref is no longer where we expected it.
        if let current = try await resolveCommit(fullRef), current != expected { return false }
        throw GitError(arguments: ["update-ref", fullRef, newCommit, expected], result: result)
    }

    package func fileContents(at commit: String, path: String) async throws -> String? {
        // Fails for a missing path and for a directory alike: both mean "no such file".
        let result = try await run(["cat-file", "blob", "\(commit):\(path)"], check: false, complete: true)
        return result.termination.isSuccess ? result.standardOutput : nil
    }

    package func commits(from base: String, to head: String) async throws -> [String] {
        try await run(["rev-list", "--reverse", "\(base)..\(head)"], complete: true).standardOutput
            .split(separator: "\n").map(String.init)
    }

    package func pruneWorktrees() async throws {
        try await administration.withWriteLock {
            try await run(["worktree", "prune"])
        }
    }

    /// Paths with uncommitted changes in the main working tree (for warnings; agents never see them).
    package func uncommittedPaths() async throws -> [String] {
        try await run(["status", "--porcelain", "-z", "--untracked-files=normal"], complete: true).standardOutput
            .split(separator: "\0").map { String($0.dropFirst(3)) }
    }

    /// Adds `pattern` to `.git/info/exclude` so Flotilla's own files never show up as untracked.
    package func excludeLocally(_ pattern: String) async throws {
        let relative = try await run(["rev-parse", "--git-path", "info/exclude"]).standardOutput.trimmingWhitespace()
        let path = relative.hasPrefix("/") ? relative : (root as NSString).appendingPathComponent(relative)
        let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard !existing.split(separator: "\n").contains(where: { String($0).trimmingWhitespace() == pattern }) else {
            return
        }
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        let separator = existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n"
        try (existing + separator + pattern + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    @discardableResult
    private func run(
        _ arguments: [String],
        in directory: String? = nil,
        identity: GitIdentity? = nil,
        check: Bool = true,
        complete: Bool = false
    ) async throws -> ProcessResult {
        var environment = self.environment
        if let identity {
            environment["GIT_AUTHOR_NAME"] = identity.name
            environment["GIT_AUTHOR_EMAIL"] = identity.email
            environment["GIT_COMMITTER_NAME"] = identity.name
            environment["GIT_COMMITTER_EMAIL"] = identity.email
        }
        let request = ProcessRequest(
            executable: "git",
            arguments: ["-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false", "-c", "core.quotePath=false"]
                + arguments,
            workingDirectory: directory ?? root,
            environment: environment,
            captureLimit: 256 << 20,
            timeout: .seconds(600)
        )
        let result = try await runner.run(request)
        if check && !result.termination.isSuccess { throw GitError(arguments: arguments, result: result) }
        if complete && result.standardOutputTruncated {
            throw GitError(
                arguments: arguments,
                result: result,
                detail: "output exceeded \(request.captureLimit) bytes"
            )
        }
        return result
    }
}

/// One lock per repository for the whole process, shared by every adapter on that repository.
private enum RepositoryLocks {
    private static let locks = Mutex<[String: AsyncReadWriteLock]>([:])

    static func lock(for root: String) -> AsyncReadWriteLock {
        locks.withLock { locks in
            if let lock = locks[root] { return lock }
            let lock = AsyncReadWriteLock()
            locks[root] = lock
            return lock
        }
    }
}

/// A git command that failed, with what git said.
package struct GitError: Error, Sendable, CustomStringConvertible {
    package var arguments: [String]
    package var termination: Termination
    package var standardError: String
    package var detail: String?

    init(arguments: [String], result: ProcessResult, detail: String? = nil) {
        self.arguments = arguments
        self.termination = result.termination
        self.standardError = result.standardError
        self.detail = detail
    }

    package var description: String {
        let command = (["git"] + arguments.prefix(4)).joined(separator: " ") + (arguments.count > 4 ? " …" : "")
        let said = standardError.trimmingWhitespace().split(separator: "\n").suffix(3).joined(separator: " / ")
        var text = "\(command) failed (\(termination))"
        if let detail { text += ": \(detail)" }
        if !said.isEmpty { text += ": \(said)" }
        return text
    }
}
