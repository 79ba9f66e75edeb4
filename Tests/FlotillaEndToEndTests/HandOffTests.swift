import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// Handing verified work over, end to end: `--push` to a local bare remote (with a lease), `flotilla land --onto`
/// (after a verify of the exact commit), and `--open-pr` through a stand-in `gh` (GitHub cannot be reached here).
@Suite("Hand-off, end to end", .tags(.large), .timeLimit(.minutes(10)))
struct HandOffTests {
    static let inOrder = "# In order\n\n## A\n- [ ] a.txt says a ok\n\n## B\nDepends on: a\n- [ ] b.txt says b ok\n"
    static let both = #"{"groups": {"a": [{"write": {"a.txt": "a ok\n"}}], "b": [{"write": {"b.txt": "b ok\n"}}]}}"#

    /// A bare repository beside the fixture, added to it as `origin`.
    static func remote(for fixture: MissionFixture) async throws -> String {
        let bare = fixture.scratch.file("remote.git")
        _ = try await fixture.repository.git(["init", "-q", "--bare", bare], in: fixture.scratch.path)
        try await fixture.repository.git("remote", "add", "origin", bare)
        return bare
    }

    static func remoteHead(_ bare: String, _ branch: String, fixture: MissionFixture) async throws -> String? {
        let out = try await fixture.repository.git(
            ["--git-dir", bare, "for-each-ref", "--format=%(objectname)", "refs/heads/\(branch)"],
            in: fixture.scratch.path
        )
        return out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            ? nil : out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func eachLandingIsPushedWithALeaseOnTheLastPush() async throws {
        let fixture = try await MissionFixture(checklist: Self.inOrder, groups: ["a", "b"])
        defer { fixture.remove() }
        let bare = try await Self.remote(for: fixture)
        let outcome = try await fixture.simulate(Self.both, ["--push", "origin"])
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        let head = try #require(await audit.targetHead())
        #expect(try await Self.remoteHead(bare, audit.mission.spec.targetBranch, fixture: fixture) == head)
        let pushes = try await audit.events().filter { $0.kind == .branchPushed }.compactMap {
            $0.payload(MissionEvent.Pushed.self)
        }
        #expect(!pushes.isEmpty && pushes.last?.commit == head)
        // Each push's lease is the commit the one before it pushed; the first expects no branch there.
        #expect(pushes.first.map { $0.expected == nil } == true)
        for (earlier, later) in zip(pushes, pushes.dropFirst()) {
            #expect(later.expected == earlier.commit)
        }
        let refusals = try await audit.events().filter { $0.kind == .pushRefused }.map(\.message)
        #expect(refusals.isEmpty, "\(refusals)")
    }

    @Test func aPushNeverOverwritesWorkFlotillaDidNotPush() async throws {
        let fixture = try await MissionFixture(checklist: Self.inOrder, groups: ["a", "b"])
        defer { fixture.remove() }
        let bare = try await Self.remote(for: fixture)
        // Someone else's work is already on the remote's `shipped`.
        try fixture.repository.write("theirs.txt", "their work\n")
        let theirs = try await fixture.repository.commitAll("their work")
        try await fixture.repository.git("push", "-q", "origin", "\(theirs):refs/heads/shipped")
        try await fixture.repository.git("reset", "-q", "--hard", "HEAD~1")
        let outcome = try await fixture.simulate(Self.both, ["--push", "origin", "--target-branch", "shipped"])
        #expect(outcome.exitCode == 0, "the mission's own result stands: \(outcome.standardError)")
        let audit = try await fixture.audit()
        #expect(try await Self.remoteHead(bare, "shipped", fixture: fixture) == theirs, "their work is untouched")
        let refused = try await audit.events().filter { $0.kind == .pushRefused }
        #expect(refused.count == 1, "one refusal, then no more tries")
        #expect(refused.first?.message.contains("never forces over work it did not push") == true)
        let said = refused.first?.payload(MissionEvent.Pushed.self)?.refusal ?? ""
        #expect(said.contains("stale info") || said.contains("rejected"), "git refused the lease: \(said)")
        #expect(!(try await audit.events()).contains { $0.kind == .branchPushed })
    }

    @Test func landVerifiesTheExactCommitRefusesWhatBreaksTheVerifyAndLandsOtherwise() async throws {
        let fixture = try await MissionFixture(checklist: Self.inOrder, groups: ["a", "b"])
        defer { fixture.remove() }
        let outcome = try await fixture.simulate(Self.both)
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        let id = audit.id.rawValue
        let result = try #require(await audit.targetHead())
        let repository = fixture.repository.path
        func land(_ onto: String) async throws -> FlotillaBinary.Outcome {
            try await FlotillaBinary.run(["land", id, "--onto", onto], in: repository)
        }

        // A branch still at the base: fast-forward.
        try await fixture.repository.git("branch", "release", audit.mission.spec.baseCommit)
        let forward = try await land("release")
        #expect(forward.exitCode == 0, "\(forward.standardError)")
        #expect(forward.standardOutput.contains("(fast-forward, verified)"), "\(forward.standardOutput)")
        #expect(await fixture.repository.resolve("refs/heads/release") == result)

        // main (checked out) moved so that the verify breaks: the gate now also asks for z.txt. Nothing changes.
        try fixture.repository.write("groups.list", "a b z\n")
        let breaking = try await fixture.repository.commitAll("also z")
        let refused = try await land("main")
        #expect(refused.exitCode != 0)
        #expect(refused.standardError.contains("not landed on main: the verify failed on"), "\(refused.standardError)")
        #expect(refused.standardError.contains("z.txt"), "the verify's own words: \(refused.standardError)")
        #expect(await fixture.repository.resolve("refs/heads/main") == breaking)
        #expect(!FileManager.default.fileExists(atPath: fixture.repository.directory.file("a.txt")))

        // main moved in a compatible way: merged, verified, landed; the checked-out working tree follows.
        try fixture.repository.write("groups.list", "a b\n")
        try fixture.repository.write("NOTES.md", "mine\n")
        let compatible = try await fixture.repository.commitAll("notes")
        let landed = try await land("main")
        #expect(landed.exitCode == 0, "\(landed.standardError)")
        #expect(landed.standardOutput.contains("(merge, verified)"), "\(landed.standardOutput)")
        let merged = try #require(await fixture.repository.resolve("refs/heads/main"))
        let parents = try await fixture.repository.git("rev-list", "--parents", "-n", "1", merged)
        #expect(
            parents.split(separator: " ").dropFirst().map(String.init).map {
                $0.trimmingCharacters(in: .whitespacesAndNewlines)
            } == [compatible, result]
        )
        #expect(await fixture.repository.show(merged, "a.txt") == "a ok")
        #expect(await fixture.repository.show(merged, "NOTES.md") == "mine")
        #expect(try String(contentsOfFile: fixture.repository.directory.file("b.txt"), encoding: .utf8) == "b ok\n")
        #expect(try await fixture.repository.git("status", "--porcelain", "--untracked-files=no").isEmpty)

        let events = try await MissionAudit(fixture.repository).events()
        #expect(events.filter { $0.kind == .landedOnto }.count == 2)
        #expect(events.filter { $0.kind == .landRefused }.count == 1)
        // Each landing's verify is recorded against the exact commit that landed.
        let verified = events.filter { $0.kind == .finalVerify }.compactMap {
            $0.payload(MissionEvent.Verified.self)?.commit
        }
        #expect(verified.contains(merged) && verified.contains(result))
    }

    @Test func openPRUsesGhWithTheReportAsItsBody() async throws {
        let fixture = try await MissionFixture(checklist: Self.inOrder, groups: ["a", "b"])
        defer { fixture.remove() }
        _ = try await Self.remote(for: fixture)
        let outcome = try await fixture.simulate(Self.both, ["--push", "origin"])
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        // gh as GitHub's CLI is called: its arguments and the body file are kept; it prints the new PR's URL.
        let bin = fixture.scratch.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let kept = fixture.scratch.file("gh")
        try """
        #!/bin/sh
        printf '%s\\n' "$@" > \(kept).args
        while [ $# -gt 0 ]; do [ "$1" = "--body-file" ] && cp "$2" \(kept).body; shift; done
        echo https://github.example/acme/app/pull/7

        """.write(toFile: bin + "/gh", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/gh")
        let path = bin + ":" + (FixtureRepository.environment["PATH"] ?? "/usr/bin:/bin")
        let opened = try await FlotillaBinary.run(
            ["land", audit.id.rawValue, "--open-pr", "--onto", "main"],
            in: fixture.repository.path,
            environment: ["PATH": path]
        )
        #expect(opened.exitCode == 0, "\(opened.standardError)")
        #expect(
            opened.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
                == "https://github.example/acme/app/pull/7"
        )
        let arguments = try String(contentsOfFile: kept + ".args", encoding: .utf8).split(separator: "\n").map(
            String.init
        )
        #expect(
            Array(arguments.prefix(6)) == ["pr", "create", "--base", "main", "--head", audit.mission.spec.targetBranch]
        )
        let body = try String(contentsOfFile: kept + ".body", encoding: .utf8)
        #expect(body.contains(audit.id.rawValue) && body.contains("./verify.sh"), "the report is the body")

        // Without gh, or without a push, it says what is missing.
        let noGh = try await FlotillaBinary.run(
            ["land", audit.id.rawValue, "--open-pr"],
            in: fixture.repository.path,
            environment: ["PATH": "/usr/bin:/bin"]
        )
        #expect(noGh.exitCode != 0 && noGh.standardError.contains("needs GitHub's gh on PATH"), "\(noGh.standardError)")
        let neither = try await FlotillaBinary.run(["land", audit.id.rawValue], in: fixture.repository.path)
        #expect(neither.exitCode == 64 || neither.exitCode == 2, "\(neither.standardError)")
        #expect(neither.standardError.contains("--onto BRANCH, or --open-pr"))
    }
}
