import FlotillaAPI
import FlotillaCore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Command line: bad input, demo, reading missions back", .tags(.large), .timeLimit(.minutes(10)))
struct CommandLineTests {
    static let malformed: [(name: String, text: String, error: String)] = [
        (
            "cycle",
            "# T\n\n## A\nDepends on: b\n- [ ] a\n\n## B\nDepends on: a\n- [ ] b\n",
            "ACCEPTANCE.md:4: dependency cycle: `a` → `b` → `a`"
        ),
        (
            "unknown dependency",
            "# T\n\n## A\n- [ ] a\n\n## B\nDepends on: a, nope\n- [ ] b\n",
            "ACCEPTANCE.md:7: group `b` depends on unknown group `nope`"
        ),
        (
            "duplicate id",
            "# T\n\n## A\n- [ ] a\n\n## A {#a}\n- [ ] again\n",
            "ACCEPTANCE.md:6: duplicate group id `a` (first defined at line 3)"
        ),
    ]

    @Test(arguments: malformed.indices)
    func aMalformedChecklistExits2WithFileAndLineAndCreatesNothing(index: Int) async throws {
        let (_, text, error) = Self.malformed[index]
        let fixture = try await MissionFixture(checklist: text, groups: ["a", "b"])
        defer { fixture.remove() }
        let branchesBefore = try await fixture.repository.branches()
        let outcome = try await fixture.simulate(#"{"groups": {}}"#)
        #expect(outcome.exitCode == 2)
        #expect(outcome.standardError.contains(error), "\(outcome.standardError)")
        #expect(!fixture.repository.directory.exists(".flotilla"))
        #expect(try await fixture.repository.branches() == branchesBefore)

        let json = try await fixture.run([
            "--backend", "simulate", "--scenario", try fixture.scenario("{}"), "--output", "json",
        ])
        #expect(json.exitCode == 2)
        let body = try JSONSerialization.jsonObject(with: Data(json.standardError.utf8)) as? [String: [String: String]]
        #expect(body?["error"]?["code"] == "invalid_input")
        #expect(body?["error"]?["message"]?.contains(error) == true)
    }

    @Test func otherBadInputAlsoExits2AndCreatesNothing() async throws {
        let fixture = try await MissionFixture(checklist: "# T\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let cases: [([String], String)] = [
            (
                ["--backend", "simulate", "--scenario", try fixture.scenario(#"{"groups": {"a": [{"wrte": {}}]}}"#)],
                "groups.a[0].wrte: unknown field"
            ),
            (
                ["--backend", "simulate", "--scenario", try fixture.scenario(#"{"groups": {"zz": [{}]}}"#)],
                "groups.zz: no such group in the checklist"
            ),
            (["--agents", "0", "--agent-command", "true"], "--agents must be between 1 and 64"),
            (["--agent-command", "true", "--max-cost", "-3"], "--max-cost must be -1 (uncapped) or at least 0"),
            (["--agent-command", "true", "--acceptance", "missing.md"], "cannot read the checklist"),
            (["--agent-command", "true", "--target-branch", "main"], "is checked out in"),
            (["--backend", "simulate"], "--backend simulate needs --scenario FILE"),
        ]
        for (arguments, message) in cases {
            let outcome = try await fixture.run(arguments)
            #expect(outcome.exitCode == 2, "\(arguments): \(outcome.standardError)")
            #expect(outcome.standardError.contains(message), "\(arguments): \(outcome.standardError)")
        }
        #expect(!fixture.repository.directory.exists(".flotilla"))
        let notARepository = try TemporaryDirectory()
        defer { notARepository.remove() }
        let outside = try await FlotillaBinary.run(["status"], in: notARepository.path)
        #expect(outside.exitCode == 2 && outside.standardError.contains("is not inside a git repository"))
    }

    @Test func theDemoCompletesAndIsReadBack() async throws {
        let directory = try TemporaryDirectory(prefix: "flotilla-demo-test")
        defer { directory.remove() }
        let demo = try await FlotillaBinary.run(["demo", "--dir", directory.path], in: directory.path)
        #expect(demo.exitCode == 0, "\(demo.standardError)")
        #expect(demo.standardOutput.contains("completed: 6/6 groups landed"), "\(demo.standardOutput)")
        let repository = directory.file("greeting-toolkit")

        let status = try await FlotillaBinary.run(
            ["status", "--output", "json", "--repo", repository],
            in: directory.path
        )
        #expect(status.exitCode == 0)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any]
        )
        #expect(json["state"] as? String == "completed")
        #expect(json["groups_done"] as? Int == 6)
        let id = try #require(json["id"] as? String)
        let groups = try #require(json["groups"] as? [[String: Any]])
        #expect(groups.map { $0["status"] as? String } == Array(repeating: "done", count: 6))
        // The metric group: the notes' size, measured by Flotilla, met on the second try.
        let notes = try #require(groups.first { $0["id"] as? String == "notes" })
        let half = try #require((notes["typed_criteria"] as? [[String: Any]])?.first)
        let target = try #require(half["target"] as? Double)
        #expect(half["status"] as? String == "met" && (half["value"] as? Double ?? .infinity) <= target, "\(half)")

        let history = try await FlotillaBinary.run(["history", id], in: repository)
        #expect(history.exitCode == 0)
        #expect(history.standardOutput.contains("greeting#1") && history.standardOutput.contains("gate_failed"))
        #expect(history.standardOutput.contains("rejected") && history.standardOutput.contains("landed"))
        let historyJSON = try await FlotillaBinary.run(["history", id, "--output", "json"], in: repository)
        let attempts = try #require(
            (try JSONSerialization.jsonObject(with: Data(historyJSON.standardOutput.utf8)) as? [String: Any])?[
                "attempts"
            ] as? [[String: Any]]
        )
        #expect(attempts.filter { $0["outcome"] as? String == "landed" }.count == 6)
        #expect(
            attempts.contains { ($0["reason"] as? String)?.hasPrefix("criterion_unmet:half (size.bytes = ") == true }
        )

        let list = try await FlotillaBinary.run(["list"], in: repository)
        #expect(list.standardOutput.contains(id) && list.standardOutput.contains("6/6"))
        let completed = try await FlotillaBinary.run(["list", "--state", "completed"], in: repository)
        #expect(completed.standardOutput.contains(id))
        let stopped = try await FlotillaBinary.run(["list", "--state", "stopped"], in: repository)
        #expect(stopped.standardOutput.contains("No stopped missions.") && !stopped.standardOutput.contains(id))
        let wrong = try await FlotillaBinary.run(["list", "--state", "done"], in: repository)
        #expect(wrong.exitCode == 2 && wrong.standardError.contains("--state must be one of"), "\(wrong.standardError)")
        let logs = try await FlotillaBinary.run(["logs", id], in: repository)
        #expect(logs.standardOutput.contains("final verify passed"))
        let follow = try await FlotillaBinary.run(["logs", "-f"], in: repository)
        #expect(follow.exitCode == 0 && follow.standardOutput.contains("Result: completed"))

        let fixture = try await MissionAudit(try await FixtureRepository(adopting: repository))
        #expect(try await fixture.unverifiedTargetCommits() == [])
        #expect(try await fixture.leftovers() == [])

        // The report, in both formats: every group with its evidence (the check, the landed commit, the gate's and
        // the merged commit's exit status), and the failures with their reasons.
        let markdown = try await FlotillaBinary.run(["report", id], in: repository)
        #expect(markdown.exitCode == 0, "\(markdown.standardError)")
        let htmlFile = directory.file("report.html")
        let written = try await FlotillaBinary.run(["report", "-o", htmlFile], in: repository)
        #expect(written.exitCode == 0 && written.standardError.contains("HTML"), "\(written.standardError)")
        let html = try String(contentsOfFile: htmlFile, encoding: .utf8)
        let groupsJSON = try #require(json["groups"] as? [[String: Any]])
        for group in groupsJSON {
            let name = try #require(group["id"] as? String)
            let commit = String(try #require(group["landed_commit"] as? String).prefix(12))
            let row = try #require(markdown.standardOutput.split(separator: "\n").first { $0.hasPrefix("| `\(name)`") })
            #expect(row.contains(commit) && row.contains("`./verify.sh`") && row.contains("exit 0 in"), "\(row)")
            #expect(html.contains("id=\"group-\(name)\"") && html.contains(commit), "\(name) is not in the HTML")
        }
        for text in [markdown.standardOutput, html] {
            #expect(text.contains("modified protected paths: verify.sh"))
            #expect(text.contains("Final verify"))
        }
        #expect(markdown.standardOutput.contains("```mermaid\ngraph LR"))
        #expect(html.contains("aria-label=\"Checklist DAG\"") && html.contains("aria-label=\"Cost over time\""))
        // It opens from disk: nothing outside the file is referenced.
        for reference in ["http:", "https:", "src=", "href=", "url(", "<script", "<link", "@import"] {
            #expect(!html.contains(reference), "the HTML references \(reference)")
        }
        let bad = try await FlotillaBinary.run(["report", id, "--format", "pdf"], in: repository)
        #expect(bad.exitCode == 2 && bad.standardError.contains("pdf"))
        let unwritable = try await FlotillaBinary.run(["report", "-o", "/nonexistent/dir/r.md"], in: repository)
        #expect(unwritable.exitCode != 0 && unwritable.standardError.contains("--output-file /nonexistent/dir/r.md"))
    }

    /// Each error leaves with its own code and exit status, as the API reports it: not every error is bad input.
    @Test func errorsExitWithTheirOwnCodeAndStatus() async throws {
        let repository = try await FixtureRepository(files: ["README": "x\n"])
        defer { repository.directory.remove() }
        let missing = try await FlotillaBinary.run(["status", "m-0000abcd", "--output", "json"], in: repository.path)
        #expect(missing.exitCode == 2, "\(missing.standardError)")
        let body =
            try JSONSerialization.jsonObject(with: Data(missing.standardError.utf8)) as? [String: [String: String]]
        #expect(body?["error"]?["code"] == "not_found", "\(missing.standardError)")

        // A daemon that is said to serve the repository (a live process: this test's) but does not answer.
        let table = LinuxProcessTable()
        let me = try #require(table.current())
        try DaemonInfo(
            process: me,
            host: "127.0.0.1",
            port: 1,
            version: FlotillaVersion.current,
            repositories: [repository.path],
            tokenRequired: false,
            startedAt: Date()
        )
        .write(stateDirectory: repository.directory.file(".flotilla"))
        let unreachable = try await FlotillaBinary.run(["list", "--output", "json"], in: repository.path)
        #expect(unreachable.exitCode == 1, "\(unreachable.standardError)")
        let said =
            try JSONSerialization.jsonObject(with: Data(unreachable.standardError.utf8)) as? [String: [String: String]]
        #expect(said?["error"]?["code"] == "unavailable", "\(unreachable.standardError)")
        let plain = try await FlotillaBinary.run(["list"], in: repository.path)
        #expect(plain.exitCode == 1 && plain.standardError.hasPrefix("error: the daemon did not answer"))
    }

    @Test func helpExplainsAndVersionPrints() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let help = try await FlotillaBinary.run(["run", "--help"], in: directory.path)
        #expect(help.exitCode == 0)
        for flag in [
            "--acceptance", "--verify", "--agents", "--backend", "--agent-command", "--scenario", "--max-cost",
            "--timeout", "--max-attempts", "--attempt-timeout", "--target-branch", "--protect", "-y", "--output",
        ] {
            #expect(help.standardOutput.contains(flag), "run --help lacks \(flag)")
        }
        let version = try await FlotillaBinary.run(["--version"], in: directory.path)
        #expect(version.standardOutput.trimmingWhitespace() == "0.1.0")
        let unknown = try await FlotillaBinary.run(["frobnicate"], in: directory.path)
        #expect(unknown.exitCode == 2)
    }
}
