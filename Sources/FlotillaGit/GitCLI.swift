import FlotillaCore
import Foundation
import Synchronization

/// The real ``GitRepository``: runs the `git` command line through a ``ProcessRunner``.
///
/// Nothing an agent can write steers a git command Flotilla runs:
/// - the git directory is named explicitly (`GIT_DIR`), never discovered from a directory an agent wrote to, so a
///   `.git` file or directory an agent planted in its checkout is never read;
/// - no system or global configuration is read (an agent without a sandbox can write `~/.gitconfig`), replace refs
///   are ignored, and hooks, fsmonitor, external diff and textconv programs are switched off on every command;
/// - agents' checkouts are plain directories with an index Flotilla keeps outside them: an attempt's result is the
///   tree Flotilla snapshots from the files, whatever the agent did to any repository it could see.
package struct GitCLI: GitRepository {
    package let root: String
    /// The git directory of ``root``, given to every command.
    package let gitDirectory: String

    package var objectsDirectory: String {
        (GitDirectory.common(of: gitDirectory) as NSString).appendingPathComponent("objects")
    }
    private let runner: any ProcessRunner
    private let environment: [String: String]
    /// What ``driverOverrides()`` found, for as long as the configuration files it came from do not change.
    let drivers = DriverCache()
    /// The trees of commits this adapter made or looked up: a commit's tree never changes.
    private let trees = TreeCache()
    /// The commits this process put in the shared object store.
    let shared = SharedCommits()

    /// Creates an adapter for one repository.
    ///
    /// - Parameters:
    ///   - root: The top level of the repository's main working tree.
    ///   - runner: Runs the git processes.
    ///   - environment: The allowlisted environment git runs with (it needs `PATH`).
    package init(root: String, runner: any ProcessRunner, environment: [String: String]) {
        self.root = root
        self.gitDirectory = GitDirectory.of(root)
        self.runner = runner
        // Nothing from the caller's environment may point git elsewhere or hand it programs to run.
        var environment = environment.filter { !$0.key.hasPrefix("GIT_") }
        environment["LC_ALL"] = "C"
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["GIT_OPTIONAL_LOCKS"] = "0"
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
        environment["GIT_ATTR_NOSYSTEM"] = "1"
        environment["GIT_NO_REPLACE_OBJECTS"] = "1"
        self.environment = environment
    }

    /// Settings on every command, over whatever the repository's configuration says.
    static let overrides = [
        "core.hooksPath=/dev/null", "core.fsmonitor=false", "core.untrackedCache=false", "core.trustctime=true",
        "core.checkStat=default", "core.quotePath=false", "core.pager=cat", "commit.gpgSign=false", "gc.auto=0",
        "maintenance.auto=false", "protocol.allow=never",
    ].flatMap { ["-c", $0] }

    /// The top level of the repository containing `path`, or nil when `path` is not inside one.
    ///
    /// The one command that discovers a repository: it runs on the user's own directory, before any agent.
    package static func discoverRoot(
        from path: String,
        runner: any ProcessRunner,
        environment: [String: String]
    ) async throws -> String? {
        let git = GitCLI(root: path, runner: runner, environment: environment)
        let result = try await git.run(["rev-parse", "--show-toplevel"], in: path, check: false, discovering: true)
        guard result.termination.isSuccess else { return nil }
        return result.standardOutput.trimmingWhitespace()
    }

    package func resolveCommit(_ revision: String) async throws -> String? {
        let result = try await run(["rev-parse", "--verify", "--quiet", "\(revision)^{commit}"], check: false)
        guard result.termination.isSuccess else { return nil }
        return result.standardOutput.trimmingWhitespace()
    }

    package func tree(of commit: String) async throws -> String {
        if let tree = trees[commit] { return tree }
        let tree = try await run(["rev-parse", "--verify", "\(commit)^{tree}"]).standardOutput.trimmingWhitespace()
        if commit.count >= 40 { trees[commit] = tree }
        return tree
    }

    package func createBranch(_ name: String, at commit: String, force: Bool) async throws {
        try await run(["branch"] + (force ? ["--force"] : []) + ["--", name, commit])
    }

    package func deleteBranches(_ names: [String]) async throws {
        guard !names.isEmpty else { return }
        // In batches, so that thousands of attempt branches take a few processes, not thousands.
        for start in stride(from: 0, to: names.count, by: 200) {
            let batch = Array(names[start..<min(names.count, start + 200)])
            // Refs that are already gone make `branch -D` fail: delete the ones that exist.
            let existing = try await run(
                ["for-each-ref", "--format=%(refname:short)"] + batch.map { "refs/heads/\($0)" }
            ).standardOutput.split(separator: "\n").map(String.init)
            if !existing.isEmpty { try await run(["branch", "-D", "--"] + existing) }
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

    package func pointBranch(_ name: String, at commit: String) async throws {
        try await run(["update-ref", "refs/heads/\(name)", commit])
    }

    package func changes(from: String, to: String) async throws -> (paths: [String], stat: DiffStat) {
        // Without rename detection a rename lists both paths, so moving a protected file away is seen.
        let output = try await run(
            ["diff", "--numstat", "--no-renames", "--no-ext-diff", "--no-textconv", "-z", from, to],
            complete: true
        )
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

    package func additions(from: String, to: String) async throws -> Additions {
        // `:old-mode new-mode old-id new-id status` then the path; sizes of both blobs from one batch query.
        let raw = try await run(["diff-tree", "-r", "-z", "--no-renames", from, to], complete: true).standardOutput
        let fields = raw.split(separator: "\0", omittingEmptySubsequences: false)
        var entries: [(path: String, old: String?, new: String)] = []
        var index = 0
        while index + 1 < fields.count {
            let header = fields[index].split(separator: " ")
            let path = String(fields[index + 1])
            index += 2
            // Added, modified or type-changed regular files and links; deletions and submodules add nothing here.
            guard header.count == 5, header[1] != "000000", header[1] != "160000" else { continue }
            entries.append((path, header[2].allSatisfy { $0 == "0" } ? nil : String(header[2]), String(header[3])))
        }
        guard !entries.isEmpty else { return Additions() }
        let ids = Set(entries.flatMap { [$0.old, $0.new].compactMap { $0 } })
        let sizes = try await run(
            ["cat-file", "--batch-check=%(objectname) %(objectsize)"],
            input: ids.sorted().map { $0 + "\n" }.joined(),
            complete: true
        ).standardOutput
        var size: [Substring: Int] = [:]
        for line in sizes.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let bytes = Int(parts[1]) { size[parts[0]] = bytes }
        }
        var additions = Additions()
        for entry in entries {
            additions.count(
                entry.path,
                old: entry.old.map { size[Substring($0)] ?? 0 },
                new: size[Substring(entry.new)] ?? 0
            )
        }
        return additions
    }

    package func diff(from: String, to: String) async throws -> String {
        try await run(["diff", "--no-renames", "--no-color", "--no-ext-diff", "--no-textconv", from, to])
            .standardOutput
    }

    package func mergeTree(ours: String, theirs: String) async throws -> MergeTreeResult {
        let result = try await run(
            ["merge-tree", "--write-tree", "--name-only", "-z", "--messages", ours, theirs],
            settings: try await driverOverrides(),
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
        let commit = try await run(arguments, identity: author).standardOutput.trimmingWhitespace()
        trees[commit] = tree
        return commit
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

    package func paths(at commit: String) async throws -> Set<String> {
        let result = try await run(["ls-tree", "-r", "-z", "--name-only", commit], complete: true)
        return Set(result.standardOutput.split(separator: "\0").map(String.init))
    }

    package func fileMode(at commit: String, path: String) async throws -> Int? {
        let result = try await run(["ls-tree", "-z", commit, "--", path], check: false)
        guard result.termination.isSuccess, let mode = result.standardOutput.split(separator: " ").first else {
            return nil
        }
        return Int(mode, radix: 8)
    }

    package func commits(from base: String, to head: String) async throws -> [String] {
        try await run(["rev-list", "--reverse", "\(base)..\(head)"], complete: true).standardOutput
            .split(separator: "\n").map(String.init)
    }

    package func userRefs() async throws -> [String: String] {
        let output = try await run(
            ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags"],
            complete: true
        ).standardOutput
        var refs: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].hasPrefix("refs/heads/flotilla/") else { continue }
            refs[parts[1]] = parts[0]
        }
        return refs
    }

    package func pruneWorktrees() async throws {
        try await run(["worktree", "prune"])
    }

    /// Paths with uncommitted changes in the main working tree (for warnings; agents never see them).
    package func uncommittedPaths() async throws -> [String] {
        try await run(
            ["status", "--porcelain", "-z", "--untracked-files=normal"],
            workTree: root,
            complete: true
        ).standardOutput.split(separator: "\0").map { String($0.dropFirst(3)) }
    }

    /// Adds `pattern` to `.git/info/exclude` so Flotilla's own files never show up as untracked.
    package func excludeLocally(_ pattern: String) async throws {
        let path = (GitDirectory.common(of: gitDirectory) as NSString).appendingPathComponent("info/exclude")
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

    /// Runs one git command on ``gitDirectory``, in `directory` (default: ``root``).
    ///
    /// `workTree` is the work tree the command reads or writes, for commands that need one; `index` the index file
    /// of one of Flotilla's checkouts. Only ``discoverRoot(from:runner:environment:)`` lets git find the repository
    /// itself (`discovering`). `settings` are more `-c` options. A non-zero exit throws a ``GitError`` when `check`; output beyond the capture limit
    /// does when `complete`.
    @discardableResult
    func run(
        _ arguments: [String],
        in directory: String? = nil,
        workTree: String? = nil,
        index: String? = nil,
        identity: GitIdentity? = nil,
        input: String? = nil,
        settings: [String] = [],
        check: Bool = true,
        complete: Bool = false,
        discovering: Bool = false
    ) async throws -> ProcessResult {
        var environment = self.environment
        if !discovering { environment["GIT_DIR"] = gitDirectory }
        if let workTree { environment["GIT_WORK_TREE"] = workTree }
        if let index { environment["GIT_INDEX_FILE"] = index }
        if let identity {
            environment["GIT_AUTHOR_NAME"] = identity.name
            environment["GIT_AUTHOR_EMAIL"] = identity.email
            environment["GIT_COMMITTER_NAME"] = identity.name
            environment["GIT_COMMITTER_EMAIL"] = identity.email
        }
        var request = ProcessRequest(
            executable: "git",
            arguments: Self.overrides + settings + arguments,
            workingDirectory: directory ?? workTree ?? root,
            environment: environment,
            captureLimit: 256 << 20,
            timeout: .seconds(600)
        )
        if let input { request.standardInput = .text(input) }
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

/// Commit id → tree id, for the commits of one mission: at most a few hundred, the oldest forgotten first.
final class TreeCache: Sendable {
    private static let limit = 512
    private let state = Mutex<(trees: [String: String], order: [String])>(([:], []))

    subscript(commit: String) -> String? {
        get { state.withLock { $0.trees[commit] } }
        set {
            guard let newValue else { return }
            state.withLock { state in
                if state.trees.updateValue(newValue, forKey: commit) == nil { state.order.append(commit) }
                if state.order.count > Self.limit { state.trees[state.order.removeFirst()] = nil }
            }
        }
    }
}
