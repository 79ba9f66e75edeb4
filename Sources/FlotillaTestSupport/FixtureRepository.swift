import FlotillaCore
import FlotillaSystem
import Foundation

/// A real git repository in a temporary directory, for tests that need git.
package struct FixtureRepository: Sendable {
    package let directory: TemporaryDirectory
    package var path: String { directory.path }
    private let runner = SubprocessRunner()

    /// Creates a repository on `main` whose first commit holds `files`.
    package init(files: [String: String], executables: Set<String> = []) async throws {
        directory = try TemporaryDirectory(prefix: "flotilla-repo")
        for (path, contents) in files {
            try directory.write(path, contents, executable: executables.contains(path))
        }
        try await git("-c", "init.defaultBranch=main", "init", "--quiet")
        try await commitAll("initial commit")
    }

    /// Wraps an existing repository (such as the demo's); it is not removed by ``TemporaryDirectory/remove()``
    /// unless the caller owns it.
    package init(adopting path: String) async throws {
        directory = TemporaryDirectory(existing: path)
    }

    package static var environment: [String: String] {
        var environment = EnvironmentPolicy().environment(from: ProcessInfo.processInfo.environment)
        environment["GIT_AUTHOR_NAME"] = "Test"
        environment["GIT_AUTHOR_EMAIL"] = "test@example.com"
        environment["GIT_COMMITTER_NAME"] = "Test"
        environment["GIT_COMMITTER_EMAIL"] = "test@example.com"
        return environment
    }

    /// A plain copy of `commit`'s files (no repository), for checks run apart from Flotilla; removed by the caller.
    package func plainCopy(of commit: String) async throws -> TemporaryDirectory {
        let copy = try TemporaryDirectory(prefix: "flotilla-independent")
        let archive = copy.file("tree.tar")
        try await git("archive", "--format=tar", "-o", archive, commit)
        _ = try await SubprocessRunner().run(
            ProcessRequest(
                executable: "tar",
                arguments: ["-xf", archive],
                workingDirectory: copy.path,
                environment: Self.environment
            )
        )
        return copy
    }

    @discardableResult
    package func git(_ arguments: String...) async throws -> String {
        try await git(arguments)
    }

    @discardableResult
    package func git(_ arguments: [String], in directory: String? = nil) async throws -> String {
        let result = try await runner.run(
            ProcessRequest(
                executable: "git",
                arguments: ["-c", "commit.gpgSign=false"] + arguments,
                workingDirectory: directory ?? path,
                environment: Self.environment
            )
        )
        guard result.termination.isSuccess else {
            throw FixtureError("git \(arguments.joined(separator: " ")) failed: \(result.standardError)")
        }
        return result.standardOutput.trimmingWhitespace()
    }

    @discardableResult
    package func commitAll(_ message: String) async throws -> String {
        try await git("add", "--all")
        try await git("commit", "--quiet", "--allow-empty", "-m", message)
        return try await git("rev-parse", "HEAD")
    }

    package func write(_ relative: String, _ contents: String, executable: Bool = false) throws {
        try directory.write(relative, contents, executable: executable)
    }

    /// The commit a ref points at, or nil.
    package func resolve(_ ref: String) async -> String? {
        try? await git("rev-parse", "--verify", "--quiet", ref)
    }

    /// Commits reachable from `head` but not `base`, oldest first.
    package func commits(_ base: String, _ head: String) async throws -> [String] {
        let output = try await git("rev-list", "--reverse", "\(base)..\(head)")
        return output.split(separator: "\n").map(String.init)
    }

    package func show(_ revision: String, _ path: String) async -> String? {
        try? await git("show", "\(revision):\(path)")
    }

    package func branches() async throws -> [String] {
        try await git("for-each-ref", "--format=%(refname:short)", "refs/heads")
            .split(separator: "\n").map(String.init)
    }

    package func worktrees() async throws -> [String] {
        try await git("worktree", "list", "--porcelain").split(separator: "\n")
            .filter { $0.hasPrefix("worktree ") }.map { String($0.dropFirst("worktree ".count)) }
    }
}

package struct FixtureError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}
