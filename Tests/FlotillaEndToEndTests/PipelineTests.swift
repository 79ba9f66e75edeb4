import FlotillaAPI
import FlotillaCore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

@Suite(
    "Pipelines: several agents per attempt, fixed files, the gate still deciding",
    .tags(.large),
    .timeLimit(.minutes(10))
)
struct PipelineTests {
    /// plan (read-only, leaves plan.md and scribbles in the checkout) → implement (reads the plan; misspells on its
    /// first run) → review (read-only; asks for changes until the file is right, which sends implement back).
    static func feature(_ fixture: MissionFixture) throws -> String {
        let plan = try fixture.scratch.write(
            "plan.sh",
            """
            #!/bin/sh
            echo "write a.txt saying: a ok" > "$FLOTILLA_STEP_OUT/plan.md"
            echo "a plan's scribble" > scribble.txt
            """,
            executable: true
        )
        let implement = try fixture.scratch.write(
            "implement.sh",
            """
            #!/bin/sh
            cat "$FLOTILLA_STEP_IN/plan/plan.md" > "\(fixture.scratch.path)/implement-$FLOTILLA_STEP_LOOP-input.txt"
            if [ "$FLOTILLA_STEP_LOOP" = 0 ]; then echo "a okk" > a.txt; else echo "a ok" > a.txt; fi
            """,
            executable: true
        )
        let review = try fixture.scratch.write(
            "review.sh",
            """
            #!/bin/sh
            if grep -qx "a ok" a.txt; then
                echo '{"verdict": "approve", "notes": ""}' > "$FLOTILLA_STEP_OUT/review.json"
            else
                echo '{"verdict": "changes", "notes": "a.txt must say exactly: a ok"}' > "$FLOTILLA_STEP_OUT/review.json"
            fi
            echo "review edits" >> a.txt
            """,
            executable: true
        )
        return """
            [pipeline.feature]
            steps = ["plan", "implement", "review"]

            [pipeline.feature.plan]
            backend = "command"
            command = "sh \(plan)"
            mode = "read-only"
            outputs = ["plan.md"]

            [pipeline.feature.implement]
            backend = "command"
            command = "sh \(implement)"
            inputs = ["plan/plan.md"]

            [pipeline.feature.review]
            backend = "command"
            command = "sh \(review)"
            mode = "read-only"
            inputs = ["plan/plan.md", "implement/patch.diff"]
            verdict = "review.json"
            on_fail = "goto:implement"
            max_loops = 2
            """
    }

    @Test func planImplementReviewLandsWithEachStepsFilesAndTheReviewSendsImplementBack() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\nPipeline: feature\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        try fixture.repository.write("flotilla.toml", try Self.feature(fixture))
        _ = try await fixture.repository.commitAll("pipeline")
        let run = try await fixture.run(["--agent-command", "false", "--agents", "1", "--output", "json"])
        #expect(run.exitCode == 0, "\(run.standardOutput)\n\(run.standardError)")
        let audit = try await MissionAudit(fixture.repository)
        #expect(audit.mission.state == .completed)
        #expect(try await audit.unverifiedTargetCommits().isEmpty)
        let head = try #require(await audit.targetHead())
        #expect(await fixture.repository.show(head, "a.txt") == "a ok")
        // The read-only steps' edits never land.
        #expect(await fixture.repository.show(head, "scribble.txt") == nil)

        // Every try in the ledger, in order, with its loop and status.
        let steps = try await audit.steps()
        #expect(
            steps.map { "\($0.record.step).\($0.record.loop):\($0.record.status.rawValue)" } == [
                "plan.0:discarded", "implement.0:success", "review.0:failed", "implement.1:success",
                "review.1:discarded",
            ]
        )
        #expect(steps.map(\.record.backend) == Array(repeating: "command", count: 5))
        #expect(steps[2].record.reason == "changes requested: a.txt must say exactly: a ok")

        // Fixed files per step: prompt, transcript, patch, result, in/ and out/.
        let directory = audit.missionDirectory + "/agent_outputs/a-1"
        let folders = try FileManager.default.contentsOfDirectory(atPath: directory + "/steps").sorted()
        #expect(folders == ["01_plan", "02_implement", "02_implement.1", "03_review", "03_review.1"])
        for folder in folders {
            for file in ["prompt.md", "transcript.log", "patch.diff", "result.json"] {
                #expect(
                    FileManager.default.fileExists(atPath: "\(directory)/steps/\(folder)/\(file)"),
                    "\(folder)/\(file)"
                )
            }
        }
        #expect(
            try String(contentsOfFile: directory + "/steps/01_plan/out/plan.md", encoding: .utf8)
                == "write a.txt saying: a ok\n"
        )
        let result =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: directory + "/steps/03_review/result.json"))
            ) as? [String: Any]
        #expect(result?["status"] as? String == "failed")
        #expect(result?["try"] as? Int == 1)
        #expect(result?["change_status"] as? String == "changed")
        #expect(FileManager.default.fileExists(atPath: directory + "/pipeline.json"))

        // The plan reached implement, as a file and in its prompt; the review's notes reached its second run.
        #expect(
            try String(contentsOfFile: fixture.scratch.file("implement-0-input.txt"), encoding: .utf8)
                == "write a.txt saying: a ok\n"
        )
        let firstPrompt = try String(contentsOfFile: directory + "/steps/02_implement/prompt.md", encoding: .utf8)
        #expect(firstPrompt.contains("=== BEGIN plan/plan.md ===\nwrite a.txt saying: a ok"))
        let secondPrompt = try String(contentsOfFile: directory + "/steps/02_implement.1/prompt.md", encoding: .utf8)
        #expect(secondPrompt.contains("## Sent back to you\na.txt must say exactly: a ok"))

        // `history --output json` gives each attempt's tries with their folders.
        let history = try await FlotillaBinary.run(
            ["history", audit.id.rawValue, "--output", "json"],
            in: fixture.repository.path
        )
        let object = try JSONSerialization.jsonObject(with: Data(history.standardOutput.utf8)) as? [String: Any]
        let attempts = try #require(object?["attempts"] as? [[String: Any]])
        #expect(
            (attempts.first?["steps"] as? [[String: Any]])?.compactMap { $0["folder"] as? String } == [
                "01_plan", "02_implement", "03_review", "02_implement.1", "03_review.1",
            ]
        )

        // The events say what happened to the read-only steps' edits, and that implement ran again.
        let kinds = try await audit.events().map(\.kind)
        #expect(kinds.filter { $0 == .stepReadOnlyDiscarded }.count == 3)
        #expect(kinds.contains(.stepLoop))
        #expect(kinds.filter { $0 == .stepFinished }.count == 5)

        // The report lists every try, in both forms.
        for format in ["md", "html"] {
            let report = try await FlotillaBinary.run(
                ["report", audit.id.rawValue, "--format", format],
                in: fixture.repository.path
            )
            #expect(report.exitCode == 0, "\(report.standardError)")
            #expect(report.standardOutput.contains("Pipeline steps"), "\(format)")
            let review = format == "md" ? "| a#1 | 03_review | failed | changed | command |" : "<td>03_review</td>"
            #expect(report.standardOutput.contains(review), "\(report.standardOutput.suffix(3000))")
            #expect(report.standardOutput.contains("02_implement.1"))
        }

        try await stepFilesAreResourcesOfARealMCPClient(audit, fixture, directory: directory)
    }

    /// The steps' files through the real Python MCP client, as `flotilla://missions/ID/attempts/1/steps/…`; a link a
    /// step left in its out/ is not followed.
    func stepFilesAreResourcesOfARealMCPClient(
        _ audit: MissionAudit,
        _ fixture: MissionFixture,
        directory: String
    ) async throws {
        guard let python = MCPClientTests.pythons.first else { return }
        let base = "flotilla://missions/\(audit.id)/attempts/1/steps/"
        let secret = try fixture.scratch.write("secret.txt", "not for agents\n")
        // As if the step had left a link where its result goes.
        let linked = directory + "/steps/03_review.1/result.json"
        try FileManager.default.removeItem(atPath: linked)
        try FileManager.default.createSymbolicLink(atPath: linked, withDestinationPath: secret)
        // …and in place of its out/ folder, a link to a folder holding a file of the output's name.
        let elsewhere = fixture.scratch.file("elsewhere")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try "not for agents\n".write(toFile: elsewhere + "/review.json", atomically: true, encoding: .utf8)
        let out = directory + "/steps/03_review.1/out"
        try FileManager.default.removeItem(atPath: out)
        try FileManager.default.createSymbolicLink(atPath: out, withDestinationPath: elsewhere)
        let uris = [
            base + "01_plan/out/plan.md", base + "03_review/result.json", base + "02_implement.1/prompt.md",
            base + "01_plan/../../../../../etc/passwd", base + "09_nothing/result.json",
            base + "03_review.1/result.json",
            base + "01_plan/out/other.md", base + "03_review.1/out/review.json",
        ]
        let run = try await SubprocessRunner().run(
            ProcessRequest(
                executable: python,
                arguments: [MCPClientTests.script, "read", try FlotillaBinary.path(), fixture.repository.path] + uris,
                workingDirectory: fixture.scratch.path,
                environment: FixtureRepository.environment.merging(["FLOTILLA_NO_DAEMON": "1"]) { $1 },
                timeout: .seconds(120)
            )
        )
        #expect(run.termination.isSuccess, "\(run.standardError.suffix(3000))")
        let line = run.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        let read = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        #expect(read[uris[0]] as? String == "write a.txt saying: a ok\n")
        #expect((read[uris[1]] as? String)?.contains("\"status\" : \"failed\"") == true, "\(read[uris[1]] ?? "")")
        #expect((read[uris[2]] as? String)?.contains("## Sent back to you") == true)
        for refused in uris[3...] {
            let error = (read[refused] as? [String: Any])?["error"] as? String
            #expect(error != nil, "\(refused): \(read[refused] ?? "")")
            #expect(error?.contains("not for agents") != true)
        }
        // The same through the API's route, which the daemon's clients use.
        let tokens = try fixture.scratch.write(
            "tokens.json",
            #"{"tokens": [{"name": "ci", "token": "ci-token-0123456789", "burst": 100}]}"#
        )
        let daemon = try await RunningDaemon(["--token-file", tokens], in: fixture.repository.path)
        let api = daemon.client(token: "ci-token-0123456789")
        let plan = try await api.send("GET", "/missions/\(audit.id)/attempts/1/steps/01_plan?file=out/plan.md")
        #expect(plan.status == 200, "\(plan.text)")
        #expect(try plan.decode(StepFileDTO.self).text == "write a.txt saying: a ok\n")
        let escape = try await api.send(
            "GET",
            "/missions/\(audit.id)/attempts/1/steps/01_plan?file=../../../pipeline.json"
        )
        #expect(escape.status == 400, "\(escape.text)")
        #expect(await daemon.stop() == 0)
    }

    @Test func aGoalAndAPipelineRunAsOneJobWithoutAPlannerOrAChecklist() async throws {
        let fixture = try await MissionFixture(checklist: "", groups: ["a"])
        defer { fixture.remove() }
        try fixture.repository.write("flotilla.toml", try Self.feature(fixture))
        try fixture.repository.write("check.sh", "#!/bin/sh\ngrep -qx 'a ok' a.txt\n")
        try FileManager.default.removeItem(atPath: fixture.repository.path + "/ACCEPTANCE.md")
        _ = try await fixture.repository.commitAll("a pipeline, no checklist")
        let run = try await FlotillaBinary.run(
            [
                "run", "--goal", "Write a.txt saying a ok", "--pipeline", "feature", "--verify", "sh check.sh",
                "--sandbox-write", fixture.scratch.path, "--agent-command", "false", "--agents", "1",
            ],
            in: fixture.repository.path
        )
        #expect(run.exitCode == 0, "\(run.standardOutput)\n\(run.standardError)")
        #expect(run.standardError.contains("one job: a group from the goal, run as the pipeline feature"))
        #expect(!run.standardError.contains("planner"), "no planner is asked: \(run.standardError)")
        let audit = try await MissionAudit(fixture.repository)
        #expect(audit.mission.spec.checklist.groups.map(\.id) == ["goal"])
        #expect(audit.mission.spec.pipelines.map(\.name) == ["feature"])
        #expect(try await audit.steps().map(\.record.step) == ["plan", "implement", "review", "implement", "review"])
        let head = try #require(await audit.targetHead())
        #expect(await fixture.repository.show(head, "a.txt") == "a ok")
    }

    @Test func theLoopLimitEndsTheAttemptWithItsReason() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        // implement never gets it right: review sends it back once (max_loops 1), then the attempt fails.
        let text = try Self.feature(fixture).replacingOccurrences(of: "max_loops = 2", with: "max_loops = 1")
        try fixture.repository.write("flotilla.toml", text)
        try fixture.scratch.write(
            "implement.sh",
            "#!/bin/sh\necho 'a okk' > a.txt\n",
            executable: true
        )
        _ = try await fixture.repository.commitAll("pipeline")
        let run = try await fixture.run([
            "--agent-command", "false", "--pipeline", "feature", "--max-attempts", "1", "--output", "json",
        ])
        #expect(run.exitCode != 0)
        let audit = try await MissionAudit(fixture.repository)
        let attempt = try #require(try await audit.attempt("a", 1))
        #expect(attempt.reason?.contains("step_loop_limit:review") == true, "\(attempt.reason ?? "")")
        #expect(try await audit.steps().map(\.record.step) == ["plan", "implement", "review", "implement", "review"])
    }

    @Test func aMissingRequiredOutputIsRetriedThenFailsTheStep() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let agent = try fixture.scratch.write(
            "forgets.sh",
            "#!/bin/sh\necho \"$FLOTILLA_STEP_TRY\" >> \"\(fixture.scratch.path)/tries.txt\"\necho 'a ok' > a.txt\n",
            executable: true
        )
        try fixture.repository.write(
            "flotilla.toml",
            """
            [pipeline.quick]
            steps = ["implement"]

            [pipeline.quick.implement]
            backend = "command"
            command = "sh \(agent)"
            outputs = ["notes.md"]
            retries = 1
            """
        )
        _ = try await fixture.repository.commitAll("pipeline")
        let run = try await fixture.run([
            "--agent-command", "false", "--pipeline", "quick", "--max-attempts", "1", "--output", "json",
        ])
        #expect(run.exitCode != 0)
        #expect(try String(contentsOfFile: fixture.scratch.file("tries.txt"), encoding: .utf8) == "1\n2\n")
        let audit = try await MissionAudit(fixture.repository)
        let attempt = try #require(try await audit.attempt("a", 1))
        #expect(attempt.reason?.contains("step_failed:implement: missing_output:notes.md") == true)
        #expect(try await audit.steps().map(\.record.attempt) == [1, 2])
        #expect(try await audit.events().contains { $0.kind == .stepRetry })
    }

    @Test func aWritingStepsChangesOutsideItsPathsAreTakenBack() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let agent = try fixture.scratch.write(
            "wide.sh",
            "#!/bin/sh\necho 'a ok, said docs' > a.txt\nmkdir -p docs && echo 'notes' > docs/notes.md\n",
            executable: true
        )
        try fixture.repository.write(
            "flotilla.toml",
            """
            [pipeline.docs]
            steps = ["implement", "docs"]

            [pipeline.docs.implement]
            backend = "command"
            command = "echo 'a ok' > a.txt"

            [pipeline.docs.docs]
            backend = "command"
            command = "sh \(agent)"
            paths = ["docs/**"]
            """
        )
        _ = try await fixture.repository.commitAll("pipeline")
        let run = try await fixture.run(["--agent-command", "false", "--pipeline", "docs", "--output", "json"])
        #expect(run.exitCode == 0, "\(run.standardError)")
        let audit = try await MissionAudit(fixture.repository)
        let head = try #require(await audit.targetHead())
        #expect(await fixture.repository.show(head, "docs/notes.md") == "notes")
        #expect(await fixture.repository.show(head, "a.txt") == "a ok")
        let taken = try await audit.events().filter { $0.kind == .stepScopeTakenBack }
        #expect(taken.count == 1)
        #expect(taken.first?.payload(MissionEvent.StepChangesTakenBack.self)?.paths == ["a.txt"])
    }

    /// Killed (SIGKILL) after a step was recorded, or while a step's agent runs: `resume` goes on from the steps
    /// that finished, and never runs them again.
    @Test(arguments: ["checkpoint:step.finished", "process:implement.sh"])
    func aCrashGoesOnFromTheStepsThatFinishedWithoutRunningThemAgain(_ point: String) async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let scratch = fixture.scratch.path
        let plan = try fixture.scratch.write(
            "plan.sh",
            """
            #!/bin/sh
            echo run >> "\(scratch)/plan-runs.txt"
            echo "a ok" > "$FLOTILLA_STEP_OUT/plan.md"
            """,
            executable: true
        )
        let implement = try fixture.scratch.write(
            "implement.sh",
            """
            #!/bin/sh
            echo run >> "\(scratch)/implement-runs.txt"
            cp "$FLOTILLA_STEP_IN/plan/plan.md" a.txt
            """,
            executable: true
        )
        try fixture.repository.write(
            "flotilla.toml",
            """
            [pipeline.two]
            steps = ["plan", "implement"]

            [pipeline.two.plan]
            backend = "command"
            command = "sh \(plan)"
            mode = "read-only"
            outputs = ["plan.md"]

            [pipeline.two.implement]
            backend = "command"
            command = "sh \(implement)"
            inputs = ["plan/plan.md"]
            """
        )
        _ = try await fixture.repository.commitAll("pipeline")
        let arguments = ["--agent-command", "false", "--pipeline", "two", "--output", "json"]
        let first = try await fixture.run(arguments, environment: ["FLOTILLA_CRASH_AT": point])
        #expect(first.signal == SIGKILL, "\(first.standardOutput)\(first.standardError)")
        let id = try await MissionAudit(fixture.repository).id.rawValue
        let resumed = try await FlotillaBinary.run(["resume", id], in: fixture.repository.path)
        #expect(resumed.exitCode == 0, "\(resumed.standardOutput)\n\(resumed.standardError)")
        let audit = try await fixture.audit()
        #expect(audit.mission.state == .completed)
        #expect(try String(contentsOfFile: fixture.scratch.file("plan-runs.txt"), encoding: .utf8) == "run\n")
        let steps = try await audit.steps()
        #expect(steps.first.map { "\($0.key) \($0.record.step)" } == "a#1 plan")
        #expect(
            steps.last.map { "\($0.key) \($0.record.step) \($0.record.status.rawValue)" } == "a#2 implement success"
        )
        #expect(!steps.contains { $0.key.number == 2 && $0.record.step == "plan" })
        let head = try #require(await audit.targetHead())
        #expect(await fixture.repository.show(head, "a.txt") == "a ok")
    }

    @Test func anInputNoEarlierStepLeftShowsAsMissing() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        // plan leaves plan.md but not risks.md: it fails, and goes on (continue); implement is told risks.md is missing.
        try fixture.repository.write(
            "flotilla.toml",
            """
            [pipeline.partial]
            steps = ["plan", "implement"]

            [pipeline.partial.plan]
            backend = "command"
            command = "echo plan > \\"$FLOTILLA_STEP_OUT/plan.md\\""
            mode = "read-only"
            outputs = ["plan.md", "risks.md"]
            on_fail = "continue"

            [pipeline.partial.implement]
            backend = "command"
            command = "ls \\"$FLOTILLA_STEP_IN/plan\\" > \(fixture.scratch.path)/seen.txt; echo 'a ok' > a.txt"
            inputs = ["plan/plan.md", "plan/risks.md"]
            """
        )
        _ = try await fixture.repository.commitAll("pipeline")
        let run = try await fixture.run(["--agent-command", "false", "--pipeline", "partial", "--output", "json"])
        #expect(run.exitCode == 0, "\(run.standardError)")
        let audit = try await fixture.audit()
        let prompt = try String(
            contentsOfFile: audit.missionDirectory + "/agent_outputs/a-1/steps/02_implement/prompt.md",
            encoding: .utf8
        )
        #expect(prompt.contains("=== BEGIN plan/plan.md ===\nplan\n"))
        #expect(prompt.contains("[missing] plan/risks.md: no earlier step left it"), "\(prompt)")
        #expect(try String(contentsOfFile: fixture.scratch.file("seen.txt"), encoding: .utf8) == "plan.md\n")
        let steps = try await audit.steps()
        #expect(steps.first?.record.reason == "missing_output:risks.md")
    }

    @Test func aGateStepBetweenStepsFailsTheAttemptAsTheGateDoes() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        try fixture.repository.write(
            "flotilla.toml",
            """
            [pipeline.checked]
            steps = ["implement", "gate", "docs"]

            [pipeline.checked.implement]
            backend = "command"
            command = "echo 'a not ok' > a.txt"

            [pipeline.checked.docs]
            backend = "command"
            command = "echo 'a ok' > a.txt"
            """
        )
        _ = try await fixture.repository.commitAll("pipeline")
        let run = try await fixture.run([
            "--agent-command", "false", "--pipeline", "checked", "--max-attempts", "1", "--output", "json",
        ])
        #expect(run.exitCode != 0)
        let audit = try await MissionAudit(fixture.repository)
        let attempt = try #require(try await audit.attempt("a", 1))
        #expect(attempt.reason?.contains("the gate step failed") == true, "\(attempt.reason ?? "")")
        // docs never ran: the gate stopped the attempt before it.
        #expect(try await audit.steps().map(\.record.step) == ["implement"])
        let output = audit.missionDirectory + "/agent_outputs/a-1/steps/02_gate/output.txt"
        #expect(try String(contentsOfFile: output, encoding: .utf8).contains("FAIL a"))
    }

    @Test func aStepThatAsksForAPersonWaitsAndApproveGoesOnFromThatStep() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let scratch = fixture.scratch.path
        let plan = try fixture.scratch.write(
            "plan.sh",
            """
            #!/bin/sh
            echo run >> "\(scratch)/plan-runs.txt"
            echo "spec" > "$FLOTILLA_STEP_OUT/spec.md"
            """,
            executable: true
        )
        // The second step leaves its notes only once a person has looked (the flag file).
        let notes = try fixture.scratch.write(
            "notes.sh",
            """
            #!/bin/sh
            echo run >> "\(scratch)/notes-runs.txt"
            if [ -f "\(scratch)/looked" ]; then echo "notes" > "$FLOTILLA_STEP_OUT/notes.md"; echo 'a ok' > a.txt; fi
            """,
            executable: true
        )
        try fixture.repository.write(
            "flotilla.toml",
            """
            [pipeline.careful]
            steps = ["plan", "implement"]

            [pipeline.careful.plan]
            backend = "command"
            command = "sh \(plan)"
            mode = "read-only"
            outputs = ["spec.md"]

            [pipeline.careful.implement]
            backend = "command"
            command = "sh \(notes)"
            outputs = ["notes.md"]
            on_fail = "human"
            """
        )
        _ = try await fixture.repository.commitAll("pipeline")
        let run = try await fixture.run(["--agent-command", "false", "--pipeline", "careful", "--output", "json"])
        #expect(run.exitCode == 3, "blocked: \(run.standardError)")
        let audit = try await MissionAudit(fixture.repository)
        let groups = try await audit.groups()
        #expect(groups.first?.status == .blocked)
        #expect(
            groups.first?.blockedReason?.contains("asks for a person") == true,
            "\(groups.first?.blockedReason ?? "")"
        )

        _ = FileManager.default.createFile(atPath: fixture.scratch.file("looked"), contents: Data())
        let approved = try await FlotillaBinary.run(["approve", audit.id.rawValue], in: fixture.repository.path)
        #expect(approved.exitCode == 0, "\(approved.standardOutput)\(approved.standardError)")
        let after = try await fixture.audit()
        #expect(after.mission.state == .completed)
        // plan ran once; implement twice: before the person looked, and after.
        #expect(try String(contentsOfFile: fixture.scratch.file("plan-runs.txt"), encoding: .utf8) == "run\n")
        #expect(try String(contentsOfFile: fixture.scratch.file("notes-runs.txt"), encoding: .utf8) == "run\nrun\n")
        #expect(
            try await after.steps().map { "\($0.key) \($0.record.step) \($0.record.status.rawValue)" } == [
                "a#1 plan success", "a#1 implement failed", "a#2 implement success",
            ]
        )
    }
}
