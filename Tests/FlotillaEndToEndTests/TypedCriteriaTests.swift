import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// Missions toward a number: `Probe:`, `Metric:`, `Event:` and `Predicate:` lines, judged by Flotilla's own runs of
/// the probes, through the built binary.
///
/// The project's probe measures the code: `work.steps()` is how many steps the work takes (a deterministic stand-in
/// for a benchmark's figure), and the scripted agent makes it smaller attempt by attempt.
@Suite("Typed criteria: figures Flotilla measures itself", .tags(.large), .timeLimit(.minutes(10)))
struct TypedCriteriaTests {
    static let probe = "import json, work\nprint(json.dumps({\"steps\": work.steps(), \"ok\": True}))\n"

    /// A repository whose work takes 500 steps, a verify that imports it, and `checklist`.
    static func project(_ checklist: String, extra: [String: String] = [:]) async throws -> FixtureRepository {
        try await FixtureRepository(
            files: [
                "ACCEPTANCE.md": checklist,
                "work.py": "def steps():\n    return 500\n",
                "probe.py": probe,
                "verify.sh": "#!/bin/sh\nset -e\npython3 -c 'import work'\n",
                ".gitignore": "__pycache__/\n",
            ].merging(extra) { $1 },
            executables: ["verify.sh"]
        )
    }

    /// Runs the mission; attempt N of a group runs `scripts[N-1]` (the last one again after that).
    static func run(
        _ repository: FixtureRepository,
        _ scripts: [String],
        arguments: [String] = []
    ) async throws -> (FlotillaBinary.Outcome, MissionAudit, TemporaryDirectory) {
        let scratch = try TemporaryDirectory(prefix: "flotilla-criteria")
        var cases = ""
        for (index, script) in scripts.enumerated() {
            cases += (index == scripts.count - 1 ? "*)" : "\(index + 1))") + "\n\(script)\n;;\n"
        }
        let agent = try scratch.write("agent.sh", "#!/bin/sh\ncase \"$FLOTILLA_ATTEMPT\" in\n\(cases)esac\n")
        let outcome = try await FlotillaBinary.run(
            [
                "run", "--verify", "./verify.sh", "--sandbox-write", scratch.path, "--agent-command", "sh \(agent)",
                "--max-attempts", "6", "--stall-threshold", "4",
            ] + arguments,
            in: repository.path
        )
        return (outcome, try await MissionAudit(repository), scratch)
    }

    static func steps(_ count: Int) -> String { "printf 'def steps():\\n    return \(count)\\n' > work.py" }

    static let fast = """
        # Faster work

        Probe: work = python3 probe.py

        ## Fast work {#fast}
        Metric: work.steps <= 100 {#steps}
        - [ ] the work takes at most 100 steps

        """

    @Test func aThresholdMetOnTheSecondAttemptLandsAndTheFirstSaysWhy() async throws {
        let repository = try await Self.project(Self.fast)
        defer { repository.directory.remove() }
        let (outcome, audit, scratch) = try await Self.run(repository, [Self.steps(150), Self.steps(80)])
        defer { scratch.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let attempts = try await audit.attempts()
        #expect(attempts.map(\.outcome) == [.gateFailed, .landed])
        #expect(
            attempts.first?.reason == "criterion_unmet:steps (work.steps = 150, not <= 100)",
            "\(attempts.first?.reason ?? "")"
        )
        // The next prompt says so too, and `history --full` shows each gate's figure.
        #expect(try audit.prompt("fast", 2).contains("criterion_unmet:steps"))
        // The report plots the figure per attempt against the target, in Mermaid and in SVG.
        let report = try await FlotillaBinary.run(["report", audit.id.rawValue], in: repository.path)
        #expect(report.standardOutput.contains("## Metrics per attempt"), "\(report.standardOutput)")
        #expect(report.standardOutput.contains("x-axis [\"attempt 1\", \"attempt 2\"]"), "\(report.standardOutput)")
        #expect(report.standardOutput.contains("line [150, 80]\n  line [100, 100]"), "\(report.standardOutput)")
        let html = try await FlotillaBinary.run(
            ["report", audit.id.rawValue, "--format", "html"],
            in: repository.path
        )
        #expect(html.standardOutput.contains("aria-label=\"fast: steps per attempt\""))
        let history = try await FlotillaBinary.run(["history", audit.id.rawValue, "--full"], in: repository.path)
        let lines = history.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("fast#1") && $0.contains("unmet") && $0.contains("150") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("fast#2") && $0.contains(" met") && $0.contains("80") }, "\(lines)")
        let head = try #require(await audit.targetHead())
        #expect(await repository.show(head, "work.py")?.contains("return 80") == true)
    }

    @Test func statusShowsEachCriterionAndCheckJudgesAFinishedMissionAgain() async throws {
        let repository = try await Self.project(Self.fast)
        defer { repository.directory.remove() }
        let (outcome, audit, scratch) = try await Self.run(repository, [Self.steps(150), Self.steps(80)])
        defer { scratch.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let id = audit.id.rawValue
        let status = try await FlotillaBinary.run(["status", id], in: repository.path)
        #expect(
            status.standardOutput.contains("fast.steps: met, 80 (target 100) — work.steps <= 100"),
            "\(status.standardOutput)"
        )
        let json = try await FlotillaBinary.run(["status", id, "--output", "json"], in: repository.path)
        let mission = try #require(
            try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
        )
        let group = try #require((mission["groups"] as? [[String: Any]])?.first)
        let criterion = try #require((group["typed_criteria"] as? [[String: Any]])?.first)
        #expect(criterion["status"] as? String == "met" && criterion["best_value"] as? Double == 80)

        // The finished mission's target, checked again: met; its base, checked: unmet, exit 1.
        let again = try await FlotillaBinary.run(["check", id], in: repository.path)
        #expect(again.exitCode == 0, "\(again.standardError)")
        #expect(again.standardOutput.contains("passed") && again.standardOutput.contains("fast.steps"))
        let base = audit.mission.spec.baseCommit
        let atBase = try await FlotillaBinary.run(
            ["check", id, "--commit", base, "--output", "json"],
            in: repository.path
        )
        #expect(atBase.exitCode == 1, "\(atBase.standardError)")
        let checked = try #require(
            try JSONSerialization.jsonObject(with: Data(atBase.standardOutput.utf8)) as? [String: Any]
        )
        #expect(checked["passed"] as? Bool == false && checked["commit"] as? String == base)
        #expect(checked["reason"] as? String == "criterion_unmet:steps (work.steps = 500, not <= 100)")
        let events = try await audit.events().filter { $0.kind == .criteriaChecked }
        #expect(events.count == 2)
        // Nothing of the mission changed.
        #expect(try await MissionAudit(repository).mission.state == .completed)
        let wrong = try await FlotillaBinary.run(["check", id, "--group", "nope"], in: repository.path)
        #expect(wrong.exitCode == 2 && wrong.standardError.contains("no such group"), "\(wrong.standardError)")
    }

    @Test func aMissionCreatedWithoutStartingRunsWhenResumed() async throws {
        let repository = try await Self.project(Self.fast)
        defer { repository.directory.remove() }
        let scratch = try TemporaryDirectory(prefix: "flotilla-criteria")
        defer { scratch.remove() }
        let agent = try scratch.write("agent.sh", "#!/bin/sh\n\(Self.steps(80))\n")
        let created = try await FlotillaBinary.run(
            [
                "run", "--verify", "./verify.sh", "--sandbox-write", scratch.path, "--agent-command", "sh \(agent)",
                "--no-start", "--output", "json",
            ],
            in: repository.path
        )
        #expect(created.exitCode == 0, "\(created.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(created.standardOutput.utf8)) as? [String: Any]
        )
        let id = try #require(object["id"] as? String)
        #expect(object["state"] as? String == "created")
        #expect(try await MissionAudit(repository).attempts().isEmpty)
        let resumed = try await FlotillaBinary.run(["resume", id], in: repository.path)
        #expect(resumed.exitCode == 0, "\(resumed.standardError)")
        let followed = try await FlotillaBinary.run(["attach", id], in: repository.path)
        #expect(followed.exitCode == 0, "\(followed.standardOutput)")
        #expect(try await MissionAudit(repository).mission.state == .completed)
    }

    @Test func aMetricImprovingOnItsBestKeepsTheGroupOffTheStallLadder() async throws {
        // With a stall threshold of 1, two failures without progress block a group (one changes the strategy, the
        // next blocks). Each attempt here gets nearer the target, so the group goes on and lands on its fourth.
        let repository = try await Self.project(Self.fast)
        defer { repository.directory.remove() }
        let (outcome, audit, scratch) = try await Self.run(
            repository,
            [Self.steps(400), Self.steps(300), Self.steps(200), Self.steps(80)],
            arguments: ["--stall-threshold", "1"]
        )
        defer { scratch.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let attempts = try await audit.attempts()
        #expect(
            attempts.map(\.outcome) == [.gateFailed, .gateFailed, .gateFailed, .landed],
            "\(attempts.map { ($0.outcome, $0.reason) })"
        )
        // The same figure twice is no progress: the group blocks.
        let stuck = try await Self.project(Self.fast)
        defer { stuck.directory.remove() }
        let (blocked, stuckAudit, stuckScratch) = try await Self.run(
            stuck,
            [Self.steps(400), Self.steps(300), Self.steps(300), Self.steps(80)],
            arguments: ["--stall-threshold", "1"]
        )
        defer { stuckScratch.remove() }
        #expect(blocked.exitCode == 3, "\(blocked.standardError)")
        #expect(try await stuckAudit.attempts().count == 3)
    }

    @Test func anAgentThatEditsTheProbeIsRejected() async throws {
        let repository = try await Self.project(Self.fast)
        defer { repository.directory.remove() }
        let (outcome, audit, scratch) = try await Self.run(
            repository,
            ["printf 'print(\"{\\\\\"steps\\\\\": 1}\")\\n' > probe.py", Self.steps(80)]
        )
        defer { scratch.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let attempts = try await audit.attempts()
        #expect(attempts.map(\.outcome) == [.rejected, .landed])
        #expect(attempts.first?.reason?.contains("probe.py") == true, "\(attempts.first?.reason ?? "")")
    }

    @Test func aFigureWrittenToTheReportNeverCounts() async throws {
        // The code under test writes a better figure into FLOTILLA_REPORT when the verify imports it: the report is
        // the verify's, advisory; the probe measures 500. (Reading Flotilla's variables is a reach into the grader,
        // rejected before the gate by default; held instead, the attempt is judged, and the figure does not count.)
        let repository = try await Self.project(Self.fast)
        defer { repository.directory.remove() }
        let forge = """
            cat > work.py <<'EOF'
            import json, os
            if os.environ.get("FLOTILLA_REPORT"):
                with open(os.environ["FLOTILLA_REPORT"], "w") as f:
                    json.dump({"metrics": {"steps": 1}, "groups": {"fast": {"criteria": {"steps": True}}}}, f)
            def steps():
                return 500
            EOF
            """
        let (outcome, audit, scratch) = try await Self.run(
            repository,
            [forge, Self.steps(80)],
            arguments: ["--grader-reach", "hold"]
        )
        defer { scratch.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let attempts = try await audit.attempts()
        #expect(attempts.map(\.outcome) == [.gateFailed, .landed])
        #expect(attempts.first?.reason?.hasPrefix("criterion_unmet:steps (work.steps = 500") == true)
    }

    @Test func aCommittedResultFileIsRejected() async throws {
        let checklist = Self.fast.replacingOccurrences(
            of: "Probe: work = python3 probe.py",
            with: "Probe: work = python3 probe.py > /dev/null; python3 probe.py > result.json file result.json"
        )
        let repository = try await Self.project(checklist)
        defer { repository.directory.remove() }
        let (outcome, audit, scratch) = try await Self.run(
            repository,
            ["echo '{\"steps\": 1}' > result.json", Self.steps(80)]
        )
        defer { scratch.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let attempts = try await audit.attempts()
        #expect(attempts.map(\.outcome) == [.rejected, .landed])
        #expect(attempts.first?.reason?.contains("result.json") == true, "\(attempts.first?.reason ?? "")")
        let head = try #require(await audit.targetHead())
        #expect(await repository.show(head, "result.json") == nil)
    }

    @Test func aProbeThatFailsLeavesItsCriterionInconclusiveAndNothingLands() async throws {
        let repository = try await Self.project(Self.fast)
        defer { repository.directory.remove() }
        // Attempt 1 renames the function: the verify still imports the module, the probe crashes.
        let (outcome, audit, scratch) = try await Self.run(
            repository,
            ["printf 'def count():\\n    return 1\\n' > work.py", Self.steps(80)]
        )
        defer { scratch.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let attempts = try await audit.attempts()
        #expect(attempts.map(\.outcome) == [.gateFailed, .landed])
        #expect(
            attempts.first?.reason?.hasPrefix("criterion_inconclusive:steps (probe_failed:work (exit 1))") == true,
            "\(attempts.first?.reason ?? "")"
        )
    }

    @Test func anOptionalCriterionIsReportedAndDoesNotBlock() async throws {
        let checklist = Self.fast.replacingOccurrences(
            of: "Metric: work.steps <= 100 {#steps}",
            with: "Metric: work.steps <= 100 {#steps}\nMetric: work.steps <= 10 (optional) {#stretch}"
        )
        let repository = try await Self.project(checklist)
        defer { repository.directory.remove() }
        let (outcome, audit, scratch) = try await Self.run(repository, [Self.steps(80)])
        defer { scratch.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        #expect(try await audit.attempts().map(\.outcome) == [.landed])
        let gate = try #require(
            try await audit.verifications().first { $0.verification.kind == .gate }
        )
        let results = gate.verification.criterionResults
        #expect(results.map(\.id) == ["steps", "stretch"])
        #expect(results.map(\.status) == [.met, .unmet])
        #expect(results.last?.required == false && results.last?.value == 80 && results.last?.target == 10)
    }

    @Test func aBaselineTargetComparesWithTheBaseCommitsFigure() async throws {
        let checklist = Self.fast.replacingOccurrences(
            of: "Metric: work.steps <= 100 {#steps}",
            with: "Metric: work.steps <= base * 0.9 {#steps}"
        )
        let repository = try await Self.project(checklist)
        defer { repository.directory.remove() }
        let (outcome, audit, scratch) = try await Self.run(repository, [Self.steps(480), Self.steps(400)])
        defer { scratch.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let baseline = try #require(try await audit.events().first { $0.kind == .probesBaseline })
        #expect(baseline.payload(MissionEvent.ProbesBaseline.self)?.figures == ["work.steps": 500])
        let attempts = try await audit.attempts()
        #expect(attempts.map(\.outcome) == [.gateFailed, .landed])
        #expect(attempts.first?.reason == "criterion_unmet:steps (work.steps = 480, not <= 450)")
    }

    @Test func eventsAndAPredicateAreEachMetInTurn() async throws {
        let checklist = """
            # Server

            ## Serve {#serve}
            Probe: log = python3 serve.py
            Event: log contains "listening"
            Event: log lacks "panic:"
            Predicate: log.errors == 0 and len(log.routes) >= 2 and all(r != "" for r in log.routes)
            - [ ] the server starts cleanly with two routes

            """
        let repository = try await Self.project(
            checklist,
            extra: ["serve.py": "import json, server\nserver.start()\n", "server.py": "def start():\n    pass\n"]
        )
        defer { repository.directory.remove() }
        func server(_ body: String) -> String { "printf 'import json\\ndef start():\\n\(body)' > server.py" }
        let panics = server(
            "    print(\"listening\")\\n    print(\"panic: boom\")\\n    print(json.dumps({\"errors\": 0, \"routes\": [\"a\", \"b\"]}))\\n"
        )
        let oneRoute = server(
            "    print(\"listening\")\\n    print(json.dumps({\"errors\": 0, \"routes\": [\"a\"]}))\\n"
        )
        let good = server(
            "    print(\"listening\")\\n    print(json.dumps({\"errors\": 0, \"routes\": [\"a\", \"b\"]}))\\n"
        )
        let (outcome, audit, scratch) = try await Self.run(repository, [panics, oneRoute, good])
        defer { scratch.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let attempts = try await audit.attempts()
        #expect(attempts.map(\.outcome) == [.gateFailed, .gateFailed, .landed])
        #expect(attempts[0].reason?.hasPrefix("criterion_unmet:event-2 (log says \"panic:\" 1 time(s))") == true)
        #expect(attempts[1].reason == "criterion_unmet:predicate-1 (does not hold)", "\(attempts[1].reason ?? "")")
    }

    @Test func twoGroupsThatPassAloneButBreakAMissionWideMetricTogetherNeverLandBoth() async throws {
        // Each group adds its own figure; alone each stays under the mission's limit, together they do not. Whichever
        // lands second fails its landing's regression and does its work again from the target.
        let checklist = """
            # Budget

            Probe: size = python3 size.py

            ## Part A {#a}
            Metric: size.total <= 100
            - [ ] a.txt holds a number

            ## Part B {#b}
            Metric: size.total <= 100
            - [ ] b.txt holds a number

            """
        let size = """
            import json, os
            total = sum(int(open(p).read()) for p in ("a.txt", "b.txt") if os.path.exists(p))
            print(json.dumps({"total": total}))

            """
        let repository = try await Self.project(checklist, extra: ["size.py": size])
        defer { repository.directory.remove() }
        let (outcome, audit, scratch) = try await Self.run(
            repository,
            ["echo 60 > \"$FLOTILLA_GROUP.txt\"", "echo 30 > \"$FLOTILLA_GROUP.txt\""],
            arguments: ["--agents", "2"]
        )
        defer { scratch.remove() }
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let attempts = try await audit.attempts()
        #expect(attempts.filter { $0.outcome == .landed }.count == 2)
        #expect(attempts.contains { $0.outcome == .regression }, "\(attempts.map(\.outcome))")
        // Every commit the target held satisfies the metric.
        let head = try #require(await audit.targetHead())
        let commits = try await repository.git("rev-list", head).split(separator: "\n").map(String.init)
        for commit in commits {
            let a = Int(await repository.show(commit, "a.txt") ?? "0") ?? 0
            let b = Int(await repository.show(commit, "b.txt") ?? "0") ?? 0
            #expect(a + b <= 100, "\(commit) holds \(a) + \(b)")
        }
    }

    @Test func aGroupsAttemptBudgetBlocksItWhenSpent() async throws {
        let checklist = Self.fast.replacingOccurrences(
            of: "Metric: work.steps <= 100 {#steps}",
            with: "Metric: work.steps <= 100 {#steps}\nAttempts: 2"
        )
        let repository = try await Self.project(checklist)
        defer { repository.directory.remove() }
        let (outcome, audit, scratch) = try await Self.run(
            repository,
            [Self.steps(150), Self.steps(120), Self.steps(80)]
        )
        defer { scratch.remove() }
        // Blocked after its two attempts, though the mission allows six and the stall rule four.
        #expect(outcome.exitCode == 3, "\(outcome.standardError)")
        #expect(try await audit.attempts().map(\.outcome) == [.gateFailed, .gateFailed])
        #expect(try await audit.groups().first?.status == .blocked)
    }

    @Test(arguments: [
        ("Metric: work.steps <== 5", "`Metric:`"),
        ("Metric: speed.ms <= 5", "reads probe `speed`, which no `Probe:` line above defines"),
        ("Predicate: work.steps < 5 and import(os)", "`import` is not a function here"),
        ("Event: work says \"x\"", "`Event:`"),
        ("Attempts: 0", "`Attempts:` of group `fast` must be 1 to 1000, or -1"),
        ("Probe: bad name = x", "`Probe:` probe name `bad name`"),
    ])
    func badSyntaxExits2NamingTheLineAndCreatesNothing(_ line: String, _ message: String) async throws {
        let checklist = Self.fast.replacingOccurrences(of: "- [ ] the work", with: "\(line)\n- [ ] the work")
        let repository = try await Self.project(checklist)
        defer { repository.directory.remove() }
        let outcome = try await FlotillaBinary.run(
            ["run", "--verify", "./verify.sh", "--agent-command", "true"],
            in: repository.path
        )
        #expect(outcome.exitCode == 2, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("ACCEPTANCE.md:7"), "\(outcome.standardError)")
        #expect(outcome.standardError.contains(message), "\(outcome.standardError)")
        #expect(!repository.directory.exists(".flotilla/ledger.sqlite"))
    }
}
