import FlotillaCore
import FlotillaGit
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

/// What the loop relies on from a repository, asked of real git and of the in-memory double alike: the double's
/// answers are only worth the decisions tested with it if they are git's.
@Suite("Git contract: real git and the in-memory double agree", .tags(.medium))
struct GitContractTests {
    enum Driver: String, CaseIterable, CustomTestStringConvertible {
        case real, inMemory
        var testDescription: String { rawValue }
    }

    static let files = ["a.txt": "one\n", "b.txt": "bee\n", "run.sh": "#!/bin/sh\n"]

    /// A repository of ``files`` (run.sh executable) on `main`, and the directory it lives in.
    func repository(_ driver: Driver) async throws -> (any GitRepository, TemporaryDirectory) {
        switch driver {
        case .real:
            let fixture = try await FixtureRepository(files: Self.files, executables: ["run.sh"])
            let git = GitCLI(root: fixture.path, runner: SubprocessRunner(), environment: FixtureRepository.environment)
            return (git, fixture.directory)
        case .inMemory:
            let directory = try TemporaryDirectory(prefix: "flotilla-contract")
            return (try InMemoryGit(root: directory.path, files: Self.files, executables: ["run.sh"]), directory)
        }
    }

    /// A commit of `base` with `edits` (nil deletes), made through a checkout as the loop makes an attempt's.
    func commit(
        _ git: any GitRepository,
        on base: String,
        _ edits: [String: String?],
        in directory: TemporaryDirectory
    ) async throws -> String {
        let name = UUID().uuidString.prefix(8)
        let checkout = directory.file("checkouts/\(name)")
        let index = directory.file("indexes/\(name)")
        try await git.checkout(base, into: checkout, index: index)
        for (path, contents) in edits {
            if let contents {
                try contents.write(toFile: checkout + "/" + path, atomically: true, encoding: .utf8)
            } else {
                try FileManager.default.removeItem(atPath: checkout + "/" + path)
            }
        }
        return try #require(
            try await git.snapshot(checkout, index: index, parent: base, message: "edit", author: .agent("test"))
        )
    }

    @Test(arguments: Driver.allCases)
    func commitsChangesAndContents(_ driver: Driver) async throws {
        let (git, directory) = try await repository(driver)
        defer { directory.remove() }
        let base = try #require(try await git.resolveCommit("refs/heads/main"))
        #expect(try await git.resolveCommit("refs/heads/nowhere") == nil)
        #expect(try await git.fileMode(at: base, path: "run.sh") == 0o100755)
        #expect(try await git.fileMode(at: base, path: "a.txt") == 0o100644)

        let edited = try await commit(git, on: base, ["a.txt": "two\n", "c.txt": "new\n", "b.txt": nil], in: directory)
        let changes = try await git.changes(from: base, to: edited)
        #expect(changes.paths.sorted() == ["a.txt", "b.txt", "c.txt"])
        #expect(changes.stat == DiffStat(files: 3, insertions: 2, deletions: 2))
        #expect(try await git.fileContents(at: edited, path: "c.txt") == "new\n")
        #expect(try await git.fileContents(at: edited, path: "b.txt") == nil)
        #expect(
            try await git.paths(at: edited) == (try await git.paths(at: base)).subtracting(["b.txt"]).union(["c.txt"])
        )
        #expect(try await git.commits(from: base, to: edited) == [edited])

        // An unchanged checkout is no commit.
        let checkout = directory.file("checkouts/same")
        try await git.checkout(edited, into: checkout, index: directory.file("indexes/same"))
        #expect(
            try await git.snapshot(
                checkout,
                index: directory.file("indexes/same"),
                parent: edited,
                message: "m",
                author: .flotilla
            )
                == nil
        )

        // Restoring paths takes them back from the source, deleted ones included.
        let restored = try await git.tree(try await git.tree(of: edited), restoring: ["a.txt", "b.txt"], from: base)
        let commit = try await git.commitTree(restored, parents: [edited], message: "restore", author: .flotilla)
        #expect(try await git.fileContents(at: commit, path: "a.txt") == "one\n")
        #expect(try await git.fileContents(at: commit, path: "b.txt") == "bee\n")
        #expect(try await git.fileContents(at: commit, path: "c.txt") == "new\n")
    }

    @Test(arguments: Driver.allCases)
    func mergesAndConflicts(_ driver: Driver) async throws {
        let (git, directory) = try await repository(driver)
        defer { directory.remove() }
        let base = try #require(try await git.resolveCommit("refs/heads/main"))
        let ours = try await commit(git, on: base, ["a.txt": "ours\n"], in: directory)
        let other = try await commit(git, on: base, ["b.txt": "theirs\n"], in: directory)
        let clash = try await commit(git, on: base, ["a.txt": "clash\n"], in: directory)

        guard case .clean(let tree) = try await git.mergeTree(ours: ours, theirs: other) else {
            Issue.record("changes to different files should merge")
            return
        }
        let merged = try await git.commitTree(tree, parents: [ours], message: "land", author: .flotilla)
        #expect(try await git.fileContents(at: merged, path: "a.txt") == "ours\n")
        #expect(try await git.fileContents(at: merged, path: "b.txt") == "theirs\n")

        guard case .conflicted(let files, _) = try await git.mergeTree(ours: ours, theirs: clash) else {
            Issue.record("two changes to one line should conflict")
            return
        }
        #expect(files == ["a.txt"])
    }

    @Test(arguments: Driver.allCases)
    func pushesCarryALeaseAndTheWorkingTreeFollowsAMove(_ driver: Driver) async throws {
        let (git, directory) = try await repository(driver)
        defer { directory.remove() }
        if driver == .real {
            // A bare repository beside the fixture, as its `origin`.
            for arguments in [
                ["init", "-q", "--bare", directory.file("remote.git")],
                ["-C", directory.path, "remote", "add", "origin", directory.file("remote.git")],
            ] {
                // Through the async runner: a blocking wait here would hold one of the few cooperative threads.
                let result = try await SubprocessRunner().run(
                    ProcessRequest(
                        executable: "git",
                        arguments: arguments,
                        workingDirectory: directory.path,
                        environment: FixtureRepository.environment
                    )
                )
                #expect(result.termination == .exited(0), "\(result.standardError)")
            }
        }
        let base = try #require(try await git.resolveCommit("refs/heads/main"))
        let next = try await commit(git, on: base, ["a.txt": "two\n"], in: directory)
        #expect(try await git.push(base, to: "origin", branch: "shipped", expecting: nil) == .pushed)
        // Someone is there now: a push that expects nothing is refused, one that expects their commit goes.
        guard case .refused = try await git.push(next, to: "origin", branch: "shipped", expecting: nil) else {
            Issue.record("a push expecting no branch went over one")
            return
        }
        #expect(try await git.push(next, to: "origin", branch: "shipped", expecting: base) == .pushed)

        try await git.advanceWorkingTree(from: base, to: next)
        #expect(try String(contentsOfFile: directory.file("a.txt"), encoding: .utf8) == "two\n")
    }

    @Test(arguments: Driver.allCases)
    func refsMoveOnlyFromWhereTheyWere(_ driver: Driver) async throws {
        let (git, directory) = try await repository(driver)
        defer { directory.remove() }
        let base = try #require(try await git.resolveCommit("refs/heads/main"))
        let next = try await commit(git, on: base, ["a.txt": "two\n"], in: directory)

        try await git.createBranch("flotilla/m-1", at: base, force: false)
        #expect(try await git.branchExists("flotilla/m-1"))
        await #expect(throws: (any Error).self) { try await git.createBranch("flotilla/m-1", at: next, force: false) }
        #expect(try await git.updateRef("flotilla/m-1", to: next, expecting: base))
        #expect(try await !git.updateRef("flotilla/m-1", to: base, expecting: base))
        #expect(try await git.resolveCommit("refs/heads/flotilla/m-1") == next)
        let absent = String(repeating: "0", count: 40)
        #expect(try await git.updateRef("refs/flotilla/quarantine/1", to: next, expecting: absent))
        #expect(try await !git.updateRef("refs/flotilla/quarantine/1", to: base, expecting: absent))

        // The user's refs are theirs: Flotilla's own branches are not among them.
        try await git.pointBranch("feature", at: next)
        let refs = try await git.userRefs()
        #expect(refs["refs/heads/feature"] == next && refs["refs/heads/main"] == base)
        #expect(refs.keys.allSatisfy { !$0.hasPrefix("refs/heads/flotilla/") })

        try await git.deleteBranches(["feature", "never-was"])
        #expect(try await !git.branchExists("feature"))
        #expect(try await git.currentBranch() == "main")
    }
}
