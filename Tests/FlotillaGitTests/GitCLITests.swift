import FlotillaCore
import FlotillaGit
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Git adapter (real git)")
struct GitCLITests {
    func adapter(_ repository: FixtureRepository) -> GitCLI {
        GitCLI(root: repository.path, runner: SubprocessRunner(), environment: FixtureRepository.environment)
    }

    @Test func worktreeCommitAndDiff() async throws {
        let repository = try await FixtureRepository(files: ["a.txt": "one\n", "keep.txt": "k\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        let base = try #require(try await git.resolveCommit("HEAD"))
        let worktree = repository.directory.file("wt")
        try await git.addDetachedWorktree(path: worktree, at: base)
        #expect(try await git.commitAll(worktree: worktree, message: "nothing", author: .flotilla) == nil)

        try "two\n".write(toFile: worktree + "/a.txt", atomically: true, encoding: .utf8)
        try "new\n".write(toFile: worktree + "/b.txt", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: worktree + "/keep.txt")
        let commit = try #require(try await git.commitAll(worktree: worktree, message: "work", author: .flotilla))
        let changes = try await git.changes(from: base, to: commit)
        #expect(changes.paths.sorted() == ["a.txt", "b.txt", "keep.txt"])
        #expect(changes.stat == DiffStat(files: 3, insertions: 2, deletions: 2))
        #expect(try await git.diff(from: base, to: commit).contains("+two"))
        #expect(try await repository.git("log", "-1", "--format=%an", commit) == "Flotilla")
        try await git.pointBranch("flotilla/attempts/m-00000001/a-1", at: commit)
        #expect(try await git.resolveCommit("refs/heads/flotilla/attempts/m-00000001/a-1") == commit)

        // Reset for the next attempt: exactly the base again, untracked and ignored files gone.
        try "junk".write(toFile: worktree + "/untracked.txt", atomically: true, encoding: .utf8)
        try await git.resetWorktree(path: worktree, at: base)
        #expect(try String(contentsOfFile: worktree + "/a.txt", encoding: .utf8) == "one\n")
        #expect(FileManager.default.fileExists(atPath: worktree + "/keep.txt"))
        #expect(!FileManager.default.fileExists(atPath: worktree + "/b.txt"))
        #expect(!FileManager.default.fileExists(atPath: worktree + "/untracked.txt"))

        try await git.removeWorktree(path: worktree)
        #expect(!FileManager.default.fileExists(atPath: worktree))
        #expect(try await repository.worktrees() == [repository.path])
    }

    @Test func renamingAProtectedFileListsBothPaths() async throws {
        let repository = try await FixtureRepository(files: ["verify.sh": "exit 1\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        let base = try #require(try await git.resolveCommit("HEAD"))
        try await repository.git("mv", "verify.sh", "other.sh")
        let moved = try await repository.commitAll("move")
        #expect(try await git.changes(from: base, to: moved).paths.sorted() == ["other.sh", "verify.sh"])
    }

    @Test func mergeTreeCleanAndConflicted() async throws {
        let repository = try await FixtureRepository(files: ["shared.txt": "base\n", "x.txt": "x\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        let base = try #require(try await git.resolveCommit("HEAD"))

        try repository.write("shared.txt", "ours\n")
        let ours = try await repository.commitAll("ours")
        try await repository.git("checkout", "--quiet", "-b", "theirs", base)
        try repository.write("shared.txt", "theirs\n")
        let conflicting = try await repository.commitAll("theirs conflicting")
        guard case .conflicted(let files, let messages) = try await git.mergeTree(ours: ours, theirs: conflicting)
        else {
            Issue.record("expected a conflict")
            return
        }
        #expect(files == ["shared.txt"])
        #expect(messages.contains("CONFLICT (content): Merge conflict in shared.txt"))

        try await repository.git("checkout", "--quiet", "-b", "clean", base)
        try repository.write("y.txt", "y\n")
        let clean = try await repository.commitAll("clean")
        guard case .clean(let tree) = try await git.mergeTree(ours: ours, theirs: clean) else {
            Issue.record("expected a clean merge")
            return
        }
        let merged = try await git.commitTree(tree, parents: [ours], message: "land", author: .flotilla)
        #expect(await repository.show(merged, "shared.txt") == "ours")
        #expect(await repository.show(merged, "y.txt") == "y")
        #expect(try await git.commits(from: base, to: merged).count == 2)
    }

    @Test func updateRefIsACompareAndSwap() async throws {
        let repository = try await FixtureRepository(files: ["a": "1\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        let first = try #require(try await git.resolveCommit("HEAD"))
        try await git.createBranch("target", at: first, force: false)
        try repository.write("a", "2\n")
        let second = try await repository.commitAll("second")
        try repository.write("a", "3\n")
        let third = try await repository.commitAll("third")

        #expect(try await git.updateRef("target", to: second, expecting: first))
        #expect(try await git.updateRef("target", to: third, expecting: first) == false)
        #expect(try await git.resolveCommit("refs/heads/target") == second)
    }

    @Test func fileContentsOnlyForFiles() async throws {
        let repository = try await FixtureRepository(files: ["dir/file.sh": "echo hi\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        #expect(try await git.fileContents(at: "HEAD", path: "dir/file.sh") == "echo hi\n")
        #expect(try await git.fileContents(at: "HEAD", path: "dir") == nil)
        #expect(try await git.fileContents(at: "HEAD", path: "missing") == nil)
    }

    @Test func detachedCheckoutIsExactlyTheCommit() async throws {
        let repository = try await FixtureRepository(files: ["a": "1\n", ".gitignore": "build/\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        let head = try #require(try await git.resolveCommit("HEAD"))
        let staging = repository.directory.file("staging")
        try await git.addDetachedWorktree(path: staging, at: head)
        try "junk".write(toFile: staging + "/untracked.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: staging + "/build", withIntermediateDirectories: true)
        try "cache".write(toFile: staging + "/build/cache", atomically: true, encoding: .utf8)
        try "changed".write(toFile: staging + "/a", atomically: true, encoding: .utf8)
        try await git.checkoutDetached(worktree: staging, at: head)
        #expect(!FileManager.default.fileExists(atPath: staging + "/untracked.txt"))
        #expect(!FileManager.default.fileExists(atPath: staging + "/build/cache"))
        #expect(try String(contentsOfFile: staging + "/a", encoding: .utf8) == "1\n")
    }

    @Test func hooksNeverRun() async throws {
        let repository = try await FixtureRepository(files: ["a": "1\n"])
        defer { repository.directory.remove() }
        let marker = repository.directory.file("hook-ran")
        try repository.write(".git/hooks/pre-commit", "#!/bin/sh\ntouch \(marker)\n", executable: true)
        let git = adapter(repository)
        try repository.write("a", "2\n")
        #expect(try await git.commitAll(worktree: repository.path, message: "m", author: .flotilla) != nil)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func excludeIsIdempotentAndHidesState() async throws {
        let repository = try await FixtureRepository(files: ["a": "1\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        try await git.excludeLocally("/.flotilla/")
        try await git.excludeLocally("/.flotilla/")
        try repository.write(".flotilla/ledger.sqlite", "x")
        #expect(try await git.uncommittedPaths().isEmpty)
        let exclude = try String(contentsOfFile: repository.directory.file(".git/info/exclude"), encoding: .utf8)
        #expect(exclude.components(separatedBy: "/.flotilla/").count == 2)
    }

    @Test func failuresCarryWhatGitSaid() async throws {
        let repository = try await FixtureRepository(files: ["a": "1\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        await #expect {
            try await git.createBranch("x", at: "0000000000000000000000000000000000000000", force: false)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("git branch -- x") && text.contains("exit 128")
        }
    }
}
