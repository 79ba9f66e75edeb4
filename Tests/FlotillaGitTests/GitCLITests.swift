import FlotillaCore
import FlotillaGit
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Git adapter (real git)", .tags(.medium))
struct GitCLITests {
    func adapter(_ repository: FixtureRepository) -> GitCLI {
        GitCLI(root: repository.path, runner: SubprocessRunner(), environment: FixtureRepository.environment)
    }

    /// An adapter, the repository's head, and a checkout of it (`slot`, with its index) beside the working tree.
    func checkedOut(
        _ repository: FixtureRepository
    ) async throws -> (git: GitCLI, base: String, checkout: String, index: String) {
        let git = adapter(repository)
        let base = try #require(try await git.resolveCommit("HEAD"))
        let checkout = repository.directory.file("slot")
        let index = repository.directory.file("indexes/slot")
        try await git.checkout(base, into: checkout, index: index)
        return (git, base, checkout, index)
    }

    @Test func checkoutSnapshotAndDiff() async throws {
        let repository = try await FixtureRepository(files: ["a.txt": "one\n", "keep.txt": "k\n"])
        defer { repository.directory.remove() }
        let (git, base, checkout, index) = try await checkedOut(repository)
        #expect(try await git.snapshot(checkout, index: index, parent: base, message: "m", author: .flotilla) == nil)

        try "two\n".write(toFile: checkout + "/a.txt", atomically: true, encoding: .utf8)
        try "new\n".write(toFile: checkout + "/b.txt", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: checkout + "/keep.txt")
        let commit = try #require(
            try await git.snapshot(checkout, index: index, parent: base, message: "work", author: .flotilla)
        )
        let changes = try await git.changes(from: base, to: commit)
        #expect(changes.paths.sorted() == ["a.txt", "b.txt", "keep.txt"])
        #expect(changes.stat == DiffStat(files: 3, insertions: 2, deletions: 2))
        #expect(try await git.diff(from: base, to: commit).contains("+two"))
        #expect(try await repository.git("log", "-1", "--format=%an %P", commit) == "Flotilla \(base)")
        try await git.pointBranch("flotilla/attempts/m-00000001/a-1", at: commit)
        #expect(try await git.resolveCommit("refs/heads/flotilla/attempts/m-00000001/a-1") == commit)

        // Back to the base for the next attempt: exactly the base, untracked and ignored files gone.
        try "junk".write(toFile: checkout + "/untracked.txt", atomically: true, encoding: .utf8)
        try await git.checkout(base, into: checkout, index: index)
        #expect(try String(contentsOfFile: checkout + "/a.txt", encoding: .utf8) == "one\n")
        #expect(FileManager.default.fileExists(atPath: checkout + "/keep.txt"))
        #expect(!FileManager.default.fileExists(atPath: checkout + "/b.txt"))
        #expect(!FileManager.default.fileExists(atPath: checkout + "/untracked.txt"))

        try git.removeCheckout(checkout, index: index)
        #expect(!FileManager.default.fileExists(atPath: checkout) && !FileManager.default.fileExists(atPath: index))
        // Checkouts are not worktrees: the repository never knew about them.
        #expect(try await repository.worktrees() == [repository.path])
    }

    @Test func theAgentsOwnRepositoryIsFoldedIntoTheSnapshotNeverFollowed() async throws {
        let repository = try await FixtureRepository(files: ["a.txt": "one\n"])
        defer { repository.directory.remove() }
        let (git, base, checkout, index) = try await checkedOut(repository)
        try await git.share(base)
        try git.prepareOwnRepository(in: checkout, at: base, index: index, objects: git.sharedObjectsDirectory)
        // The agent's git works on its own repository: status is clean, and it may commit and branch there.
        let agentEnvironment = FixtureRepository.environment.merging(["GIT_CEILING_DIRECTORIES": repository.path]) {
            $1
        }
        func agentGit(_ arguments: String...) async throws -> ProcessResult {
            try await SubprocessRunner().run(
                ProcessRequest(
                    executable: "git",
                    arguments: arguments,
                    workingDirectory: checkout,
                    environment: agentEnvironment
                )
            )
        }
        #expect(try await agentGit("status", "--porcelain").standardOutput == "")
        try "agent\n".write(toFile: checkout + "/a.txt", atomically: true, encoding: .utf8)
        #expect(try await agentGit("commit", "-qam", "mine").termination.isSuccess)
        #expect(try await agentGit("checkout", "-qb", "elsewhere").termination.isSuccess)
        // The repository Flotilla owns saw none of it.
        #expect(try await repository.branches() == ["main"])
        let commit = try #require(
            try await git.snapshot(checkout, index: index, parent: base, message: "work", author: .flotilla)
        )
        #expect(await repository.show(commit, "a.txt") == "agent")
        #expect(try await repository.git("log", "-1", "--format=%P", commit) == base)

        // A `.git` file pointing at the user's repository changes nothing either.
        try FileManager.default.removeItem(atPath: checkout + "/.git")
        try "gitdir: \(repository.path)/.git\n".write(toFile: checkout + "/.git", atomically: true, encoding: .utf8)
        try "again\n".write(toFile: checkout + "/a.txt", atomically: true, encoding: .utf8)
        _ = try await git.snapshot(checkout, index: index, parent: base, message: "work", author: .flotilla)
        #expect(try await repository.git("rev-parse", "main") == base)
        #expect(try await repository.git("status", "--porcelain", "--untracked-files=no") == "")
    }

    @Test func aCheckoutsOwnRepositoryIsRefreshedWhenUntouchedAndMadeAgainOtherwise() async throws {
        let repository = try await FixtureRepository(files: ["a.txt": "one\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        let base = try #require(try await git.resolveCommit("HEAD"))
        try repository.write("a.txt", "two\n")
        let next = try await repository.commitAll("next")
        let checkout = repository.directory.file("slot")
        let index = repository.directory.file("indexes/slot")
        let own = checkout + "/.git"
        try await git.checkout(base, into: checkout, index: index)
        try git.prepareOwnRepository(in: checkout, at: base, index: index, objects: git.objectsDirectory)
        let inode = try FileManager.default.attributesOfItem(atPath: own + "/HEAD")[.systemFileNumber] as? Int
        // Untouched: refreshed in place, at the new commit.
        try await git.checkout(next, into: checkout, index: index)
        try git.prepareOwnRepository(in: checkout, at: next, index: index, objects: git.objectsDirectory)
        #expect(try String(contentsOfFile: own + "/HEAD", encoding: .utf8) == next + "\n")
        #expect(try FileManager.default.attributesOfItem(atPath: own + "/HEAD")[.systemFileNumber] as? Int == inode)
        // A hook or a branch of the agent's: made again, with nothing of them left.
        try FileManager.default.createDirectory(atPath: own + "/hooks", withIntermediateDirectories: true)
        try "#!/bin/sh\nexit 1\n".write(toFile: own + "/hooks/pre-commit", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: own + "/refs/heads", withIntermediateDirectories: true)
        try await git.checkout(base, into: checkout, index: index)
        try git.prepareOwnRepository(in: checkout, at: base, index: index, objects: git.objectsDirectory)
        #expect(!FileManager.default.fileExists(atPath: own + "/hooks"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: own + "/refs") == [])
        #expect(try String(contentsOfFile: own + "/HEAD", encoding: .utf8) == base + "\n")
        let status = try await SubprocessRunner().run(
            ProcessRequest(
                executable: "git",
                arguments: ["status", "--porcelain"],
                workingDirectory: checkout,
                environment: FixtureRepository.environment
            )
        )
        #expect(status.termination.isSuccess && status.standardOutput.isEmpty, "\(status.standardError)")
    }

    @Test func configurationAnAgentCanWriteIsNeverObeyed() async throws {
        let repository = try await FixtureRepository(files: ["a.txt": "one\n", ".gitattributes": "*.txt filter=evil\n"])
        defer { repository.directory.remove() }
        let home = try TemporaryDirectory(prefix: "flotilla-home")
        defer { home.remove() }
        let marker = home.file("ran")
        // A global configuration, as an agent without a sandbox could write it, and replace refs.
        try home.write(
            ".gitconfig",
            """
            [core]
            \tfsmonitor = "touch \(marker).fsmonitor; false"
            \thooksPath = \(home.path)/hooks
            [filter "evil"]
            \tclean = "touch \(marker).clean; cat"
            \tsmudge = "touch \(marker).smudge; cat"
            [diff]
            \texternal = "touch \(marker).diff"

            """
        )
        try home.write("hooks/reference-transaction", "#!/bin/sh\ntouch \(marker).hook\n", executable: true)
        var environment = FixtureRepository.environment
        environment["HOME"] = home.path
        let git = GitCLI(root: repository.path, runner: SubprocessRunner(), environment: environment)
        let base = try #require(try await git.resolveCommit("HEAD"))
        try repository.write("a.txt", "replaced\n")
        let impostor = try await repository.commitAll("impostor")
        try await repository.git("replace", base, impostor)

        let checkout = repository.directory.file("slot")
        let index = repository.directory.file("indexes/slot")
        try await git.checkout(base, into: checkout, index: index)
        #expect(try String(contentsOfFile: checkout + "/a.txt", encoding: .utf8) == "one\n", "replace refs ignored")
        try "two\n".write(toFile: checkout + "/a.txt", atomically: true, encoding: .utf8)
        let commit = try #require(
            try await git.snapshot(checkout, index: index, parent: base, message: "m", author: .flotilla)
        )
        _ = try await git.diff(from: base, to: commit)
        try await git.pointBranch("x", at: commit)
        let ran = try FileManager.default.contentsOfDirectory(atPath: home.path).filter { $0.hasPrefix("ran") }
        #expect(ran == [])
    }

    @Test func filtersAndMergeDriversOfTheRepositoryConfigurationNeverRun() async throws {
        // What an agent without a sandbox could write into the repository's own configuration: a smudge filter that
        // makes a checkout of broken code look right, and a merge driver.
        let repository = try await FixtureRepository(
            files: [".gitattributes": "*.txt filter=evil merge=evil\n", "a.txt": "a ok\n"]
        )
        defer { repository.directory.remove() }
        let marker = repository.directory.file("ran")
        // A first checkout before the configuration is planted: what Flotilla keeps of it must not outlive the change.
        let early = adapter(repository)
        try await early.checkout(
            try #require(try await early.resolveCommit("HEAD")),
            into: repository.directory.file("early"),
            index: repository.directory.file("indexes/early")
        )
        try await repository.git("config", "filter.evil.smudge", "sh -c 'touch \(marker)-smudge; sed s/bad/ok/'")
        try await repository.git("config", "filter.evil.clean", "sh -c 'touch \(marker)-clean; cat'")
        try await repository.git("config", "merge.evil.driver", "sh -c 'touch \(marker)-merge; cp %B %A'")
        let git = early
        let base = try #require(try await git.resolveCommit("HEAD"))
        let checkout = repository.directory.file("slot")
        let index = repository.directory.file("indexes/slot")
        try await git.checkout(base, into: checkout, index: index)
        try "a bad\n".write(toFile: checkout + "/a.txt", atomically: true, encoding: .utf8)
        let broken = try #require(
            try await git.snapshot(checkout, index: index, parent: base, message: "m", author: .flotilla)
        )
        // The gate's checkout shows what the commit holds.
        let gate = repository.directory.file("gate")
        try await git.checkout(broken, into: gate, index: repository.directory.file("indexes/gate"))
        #expect(try String(contentsOfFile: gate + "/a.txt", encoding: .utf8) == "a bad\n")
        try await git.checkout(base, into: checkout, index: index)
        try "other\n".write(toFile: checkout + "/a.txt", atomically: true, encoding: .utf8)
        let other = try #require(
            try await git.snapshot(checkout, index: index, parent: base, message: "m", author: .flotilla)
        )
        guard case .conflicted(let files, _) = try await git.mergeTree(ours: other, theirs: broken) else {
            Issue.record("a file with a custom merge driver should conflict, not merge by its command")
            return
        }
        #expect(files == ["a.txt"])
        let ran = try FileManager.default.contentsOfDirectory(atPath: repository.path).filter { $0.hasPrefix("ran") }
        #expect(ran == [])
    }

    @Test func aCheckoutReplacesSymbolicLinksInsteadOfWritingThroughThem() async throws {
        let repository = try await FixtureRepository(files: ["src/main.c": "int main;\n", "top.txt": "t\n"])
        defer { repository.directory.remove() }
        let outside = try TemporaryDirectory(prefix: "flotilla-outside")
        defer { outside.remove() }
        let (git, base, checkout, index) = try await checkedOut(repository)
        // What an agent leaves: a directory and a file replaced by links to somewhere else, and a locked directory.
        try FileManager.default.removeItem(atPath: checkout + "/src")
        try FileManager.default.createSymbolicLink(atPath: checkout + "/src", withDestinationPath: outside.path)
        try FileManager.default.removeItem(atPath: checkout + "/top.txt")
        try FileManager.default.createSymbolicLink(
            atPath: checkout + "/top.txt",
            withDestinationPath: outside.file("top.txt")
        )
        try outside.write("top.txt", "precious\n")
        try await git.checkout(base, into: checkout, index: index)
        #expect(try String(contentsOfFile: checkout + "/src/main.c", encoding: .utf8) == "int main;\n")
        #expect(try String(contentsOfFile: checkout + "/top.txt", encoding: .utf8) == "t\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path) == ["top.txt"])
        #expect(try outside.read("top.txt") == "precious\n")
    }

    @Test func aTreeCanTakePathsBackFromAnotherCommit() async throws {
        let repository = try await FixtureRepository(files: ["tests/a_test.sh": "strict\n", "code.sh": "v1\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        let base = try #require(try await git.resolveCommit("HEAD"))
        try repository.write("tests/a_test.sh", "weakened\n")
        try repository.write("tests/new_test.sh", "new\n")
        try repository.write("code.sh", "v2\n")
        let changed = try await repository.commitAll("weaken")
        let restored = try await git.tree(
            try await git.tree(of: changed),
            restoring: ["tests/a_test.sh"],
            from: base
        )
        let commit = try await git.commitTree(restored, parents: [base], message: "m", author: .flotilla)
        #expect(await repository.show(commit, "tests/a_test.sh") == "strict")
        #expect(await repository.show(commit, "tests/new_test.sh") == "new")
        #expect(await repository.show(commit, "code.sh") == "v2")
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

    @Test func aCheckoutIsExactlyTheCommit() async throws {
        let repository = try await FixtureRepository(files: ["a": "1\n", ".gitignore": "build/\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        let head = try #require(try await git.resolveCommit("HEAD"))
        let staging = repository.directory.file("staging")
        let index = repository.directory.file("indexes/staging")
        try await git.checkout(head, into: staging, index: index)
        try "junk".write(toFile: staging + "/untracked.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: staging + "/build", withIntermediateDirectories: true)
        try "cache".write(toFile: staging + "/build/cache", atomically: true, encoding: .utf8)
        try "changed".write(toFile: staging + "/a", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: staging + "/.git", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: staging + "/locked/deep", withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: staging + "/locked")
        try await git.checkout(head, into: staging, index: index)
        #expect(!FileManager.default.fileExists(atPath: staging + "/untracked.txt"))
        #expect(!FileManager.default.fileExists(atPath: staging + "/build/cache"))
        #expect(!FileManager.default.fileExists(atPath: staging + "/.git"))
        #expect(!FileManager.default.fileExists(atPath: staging + "/locked"))
        #expect(try String(contentsOfFile: staging + "/a", encoding: .utf8) == "1\n")
    }

    @Test func hooksNeverRun() async throws {
        let repository = try await FixtureRepository(files: ["a": "1\n"])
        defer { repository.directory.remove() }
        let marker = repository.directory.file("hook-ran")
        for hook in ["pre-commit", "post-checkout", "reference-transaction", "post-index-change"] {
            try repository.write(".git/hooks/\(hook)", "#!/bin/sh\ntouch \(marker)-\(hook)\n", executable: true)
        }
        let git = adapter(repository)
        let base = try #require(try await git.resolveCommit("HEAD"))
        let checkout = repository.directory.file("slot")
        try await git.checkout(base, into: checkout, index: checkout + ".index")
        try "2\n".write(toFile: checkout + "/a", atomically: true, encoding: .utf8)
        let commit = try await git.snapshot(
            checkout,
            index: checkout + ".index",
            parent: base,
            message: "m",
            author: .flotilla
        )
        try await git.pointBranch("t", at: try #require(commit))
        #expect(try await git.updateRef("t", to: base, expecting: try #require(commit)))
        let ran = try FileManager.default.contentsOfDirectory(atPath: repository.path).filter {
            $0.hasPrefix("hook-ran")
        }
        #expect(ran == [])
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

    @Test func theSharedStoreHoldsWhatTheCheckedOutCommitsReachAndNothingElse() async throws {
        let repository = try await FixtureRepository(files: ["a.txt": "one\n"])
        defer { repository.directory.remove() }
        let git = adapter(repository)
        let base = try #require(try await git.resolveCommit("HEAD"))
        // A `.env` staged once and taken back leaves a dangling blob; a branch the mission never sees has its own.
        try repository.write(".env", "KEY=dangling-secret\n")
        _ = try await repository.git("add", ".env")
        _ = try await repository.git("rm", "--cached", "-q", ".env")
        let dangling = try await repository.git("hash-object", ".env")
        _ = try await repository.git("checkout", "-qb", "private")
        try repository.write("p.txt", "private work\n")
        let privateCommit = try await repository.commitAll("private")
        _ = try await repository.git("checkout", "-q", "main")
        try repository.write("a.txt", "two\n")
        let next = try await repository.commitAll("next")

        try await git.share(base)
        // A second adapter (another mission) sharing the same commits at the same moment is no error.
        let other = adapter(repository)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await git.share(next) }
            group.addTask { try await other.share(next) }
            try await group.waitForAll()
        }
        func present(_ object: String) async throws -> Bool {
            try await SubprocessRunner().run(
                ProcessRequest(
                    executable: "git",
                    arguments: ["--git-dir", git.sharedObjectsDirectory + "/..", "cat-file", "-e", object],
                    workingDirectory: repository.path,
                    environment: FixtureRepository.environment
                )
            ).termination.isSuccess
        }
        for object in [base, next, next + ":a.txt"] { #expect(try await present(object), "\(object) is missing") }
        #expect(try await !present(dangling), "the dangling blob of .env was shared")
        #expect(try await !present(privateCommit), "an unrelated branch was shared")
        // The repository itself still has both: nothing was taken from it.
        #expect(try await repository.git("cat-file", "-t", dangling) == "blob")
    }
}
