import FlotillaAPI
import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

/// Missions with a real model on this machine: Qwen2.5-Coder-1.5B served by llama.cpp.
///
/// `scripts/local-model` builds it; `.ci/run` sets FLOTILLA_TEST_LLAMA_SERVER and FLOTILLA_TEST_MODEL. The real aider
/// and mini-swe-agent, the real planner and critic. What a correct system guarantees whatever the model does is
/// asserted on every run: nothing unverified lands, usage is recorded, the run ends within its limits, no tool file
/// lands. A pipeline (plan read-only, then implement) runs with the same model. Whether the model succeeds varies from
/// run to run (the server samples), so success is not asserted:
/// across the runs so far the aider mission completed 4 of 4 times, mini 3 of 4, the planner 3 of 6, the critic's
/// review 4 of 5.
@Suite(
    "A real model on this machine: aider, mini, the planner and the critic",
    .tags(.large),
    .serialized,
    .enabled(if: LocalModelServer.isAvailable, "scripts/local-model builds the model server (.ci/run does)"),
    .timeLimit(.minutes(20))
)
struct RealModelTests {
    static let aider = ProcessInfo.processInfo.environment["FLOTILLA_TEST_AIDER"]
    static let mini = ProcessInfo.processInfo.environment["FLOTILLA_TEST_MINI"]
    static let model = "openai/\(LocalModelServer.alias)"

    static let checklist = """
        # Calculator

        Probe: cases = python3 probe_calc.py

        ## Add
        Metric: cases.add_correct >= 4 {#add_cases}
        - [ ] `add(a, b)` in calc.py returns the sum of a and b

        ## Multiply
        Depends on: add
        - [ ] `multiply(a, b)` in calc.py returns the product of a and b
        """

    /// A small Python project: two stubs in calc.py, their unittest tests (protected, as tests are), a verify script
    /// that runs the tests of the groups it is asked about, and a probe that counts the cases `add` gets right (the
    /// Add group's metric: Flotilla runs it itself after the verify passed).
    static let files = [
        "probe_calc.py": """
        import json

        CASES = [((2, 3), 5), ((-4, 4), 0), ((10, 15), 25), ((0, 7), 7)]
        correct = 0
        for args, want in CASES:
            try:
                from calc import add
                correct += add(*args) == want
            except Exception:
                pass
        print(json.dumps({"add_correct": correct}))

        """,
        "calc.py": """
        def add(a, b):
            \"\"\"Return the sum of a and b.\"\"\"
            raise NotImplementedError("add")


        def multiply(a, b):
            \"\"\"Return the product of a and b.\"\"\"
            raise NotImplementedError("multiply")

        """,
        "tests/__init__.py": "",
        ".gitignore": "__pycache__/\n",
        "tests/test_add.py": """
        import unittest

        from calc import add


        class AddTests(unittest.TestCase):
            def test_add(self):
                self.assertEqual(add(2, 3), 5)
                self.assertEqual(add(-4, 4), 0)

        """,
        "tests/test_multiply.py": """
        import unittest

        from calc import multiply


        class MultiplyTests(unittest.TestCase):
            def test_multiply(self):
                self.assertEqual(multiply(3, 4), 12)
                self.assertEqual(multiply(-2, 5), -10)

        """,
        "verify.sh": """
        #!/bin/sh
        set -e
        for group in $(echo "${FLOTILLA_GROUPS:-add,multiply}" | tr ',' ' '); do
            python3 -m unittest "tests.test_$group"
        done

        """,
    ]

    /// mini-swe-agent's settings for a small model: text actions in a ```bash block, a fixed plan, a short leash.
    static let miniSettings = """
        agent:
          step_limit: 8
          system_template: |
            You are a programmer working in a shell. Reply with one THOUGHT line, then exactly one ```bash block
            holding one command. Nothing else.
          instance_template: |
            {{task}}

            Work in this order, one command per reply:
            1. Show the file you have to change with cat.
            2. Replace only the line that raises NotImplementedError with the code the docstring asks for,
               keeping everything else. For example, for a function area(width, height) in shapes.py:
            ```bash
            sed -i 's/raise NotImplementedError("area")/return width * height/' shapes.py
            ```
            3. Run the tests: python3 -m unittest discover -s tests -t .
            4. When they pass, reply with: echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT
        model:
          action_regex: "```(?:bash|mswea_bash_command)\\\\s*\\\\n(.*?)(?:\\\\n```|$)"
          model_kwargs:
            temperature: 0
            stop: ["\\n```\\n"]
            drop_params: true

        """

    /// A repository holding the calculator project and its checklist.
    static func calculator() async throws -> MissionFixture {
        try await MissionFixture(checklist: checklist, groups: ["add", "multiply"], extraFiles: files)
    }

    /// Runs a mission with `backend` against the served model and checks what holds whatever the model did.
    func mission(
        backend: String,
        binary: String,
        arguments: [String],
        server: LocalModelServer,
        fixture: MissionFixture
    ) async throws -> MissionAudit {
        let home = fixture.scratch.file("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let outcome = try await fixture.run(
            [
                "--backend", backend, "--agent-binary", binary, "--model", Self.model, "--agent-base-url",
                server.baseURL, "--agents", "1", "--pass-env", "OPENAI_API_KEY", "--attempt-timeout", "300",
                "--max-attempts", "12", "--max-output-tokens", "600",
            ] + arguments,
            environment: ["OPENAI_API_KEY": "sk-local", "HOME": home],
            timeout: .seconds(1500)
        )
        #expect(!outcome.timedOut)
        let audit = try await fixture.audit()
        let attempts = try await audit.attempts()
        // Within its limits, whatever the model did.
        #expect(attempts.count <= 12)
        #expect([0, 3, 5].contains(outcome.exitCode), "\(outcome.standardError)")
        // Every session that ended on its own is measured (one stopped at its timeout may die before it says).
        let ended = attempts.filter { ![.agentFailed, .timedOut, .interrupted].contains($0.outcome) }
        #expect(ended.allSatisfy { $0.usage.inputTokens > 0 }, "\(ended.map { ($0.key, $0.outcome, $0.usage) })")
        // Nothing unverified landed, and no tool file did.
        #expect(try await audit.unverifiedTargetCommits().isEmpty)
        // The Add group's gate includes its metric: every gate of it whose verify passed measured the figure, and a
        // landed attempt of it met the target.
        let gates = try await audit.verifications().map(\.verification).filter {
            $0.kind == .gate && $0.attempt?.group == "add" && $0.exitCode == 0
        }
        for gate in gates {
            let result = gate.criterionResults.first { $0.id == "add_cases" }
            #expect(result?.value != nil, "\(gate.attempt.map(\.description) ?? "?"): \(gate.criterionResults)")
        }
        if let landed = attempts.first(where: { $0.key.group == "add" && $0.outcome == .landed }) {
            let gate = gates.last { $0.attempt == landed.key }
            #expect(gate?.criterionResults.first { $0.id == "add_cases" }?.status == .met)
            #expect(gate?.criterionResults.first { $0.id == "add_cases" }?.value == 4)
        }
        if let head = await audit.targetHead() {
            let tree = try await fixture.repository.git("ls-tree", "-r", "--name-only", head)
            #expect(!tree.contains(".aider") && !tree.contains(".traj"), "\(tree)")
        }
        return audit
    }

    @Test(.enabled(if: aider != nil, "aider is installed by .ci/run"))
    func aiderWithTheRealModelRunsATwoGroupMissionTheGateDecides() async throws {
        let fixture = try await Self.calculator()
        defer { fixture.remove() }
        let server = try await LocalModelServer.start()
        defer { server.stop() }
        let audit = try await mission(
            backend: "aider",
            binary: try #require(Self.aider),
            // A small model needs aider's whole-file format, and the file in the chat.
            arguments: ["--agent-arg", "--edit-format", "--agent-arg", "whole", "--agent-arg", "calc.py"],
            server: server,
            fixture: fixture
        )
        // Whether this model gets there varies from run to run (see the suite's note); when it does, every group
        // landed and the final verify passed on the target.
        if audit.mission.state == .completed {
            #expect(try await audit.groups().allSatisfy { $0.status == .done })
            #expect(
                try await audit.verifications().contains { $0.verification.kind == .final && $0.verification.passed }
            )
        }
    }

    @Test(.enabled(if: aider != nil, "aider is installed by .ci/run"))
    func aPipelineWithTheRealModelPlansReadOnlyThenImplementsAndTheGateDecides() async throws {
        // The calculator, two steps per attempt, both aider with the served model: plan (read-only: whatever it edits
        // is discarded), then implement, told the plan's summary. At most 4 attempts (8 sessions).
        let fixture = try await MissionFixture(
            checklist: Self.checklist,
            groups: ["add", "multiply"],
            extraFiles: Self.files.merging([
                "flotilla.toml": """
                [pipeline.planned]
                steps = ["plan", "implement"]

                [pipeline.planned.plan]
                mode = "read-only"
                timeout = 300

                [pipeline.planned.implement]
                inputs = ["plan/result.json"]
                timeout = 300

                """
            ]) { $1 }
        )
        defer { fixture.remove() }
        let server = try await LocalModelServer.start()
        defer { server.stop() }
        let home = fixture.scratch.file("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let outcome = try await fixture.run(
            [
                "--backend", "aider", "--agent-binary", try #require(Self.aider), "--model", Self.model,
                "--agent-base-url", server.baseURL, "--agents", "1", "--pass-env", "OPENAI_API_KEY",
                "--max-attempts", "4", "--max-output-tokens", "600", "--pipeline", "planned",
                "--agent-arg", "--edit-format", "--agent-arg", "whole", "--agent-arg", "calc.py",
            ],
            environment: ["OPENAI_API_KEY": "sk-local", "HOME": home],
            timeout: .seconds(1500)
        )
        #expect([0, 3, 5].contains(outcome.exitCode), "\(outcome.standardOutput.suffix(3000))\(outcome.standardError)")
        let audit = try await fixture.audit()
        #expect(try await audit.unverifiedTargetCommits().isEmpty)
        let steps = try await audit.steps()
        // Every attempt that got past its plan ran implement after it, each a real aider session.
        #expect(steps.first?.record.step == "plan", "\(steps.map(\.record.step))")
        #expect(steps.allSatisfy { $0.record.backend == "aider" })
        let measured = steps.filter {
            $0.record.status != .timeout && $0.record.reason?.hasPrefix("agent_failed") != true
        }
        #expect(measured.allSatisfy { $0.record.inputTokens > 0 }, "\(measured.map(\.record))")
        // The plan step is read-only: it never records a snapshot of its own.
        #expect(steps.filter { $0.record.step == "plan" }.allSatisfy { $0.record.snapshot == nil })
        if audit.mission.state == .completed {
            #expect(steps.contains { $0.record.step == "implement" && $0.record.status == .success })
        }
    }

    @Test(.enabled(if: mini != nil, "mini-swe-agent is installed by .ci/run"))
    func miniWithTheRealModelRunsATwoGroupMissionTheGateDecides() async throws {
        let fixture = try await Self.calculator()
        defer { fixture.remove() }
        let settings = try fixture.scratch.write("mini-local.yaml", Self.miniSettings)
        let server = try await LocalModelServer.start()
        defer { server.stop() }
        let audit = try await mission(
            backend: "mini",
            binary: try #require(Self.mini),
            arguments: [
                "--agent-arg", "--model-class", "--agent-arg", "litellm_textbased", "--agent-arg", "-c", "--agent-arg",
                "mini_textbased.yaml", "--agent-arg", "-c", "--agent-arg", settings,
            ],
            server: server,
            fixture: fixture
        )
        // Whether this model gets there varies from run to run (see the suite's note); when it does, every group
        // landed and the final verify passed on the target.
        if audit.mission.state == .completed {
            #expect(try await audit.groups().allSatisfy { $0.status == .done })
            #expect(
                try await audit.verifications().contains { $0.verification.kind == .final && $0.verification.passed }
            )
        }
    }

    /// The model's own valid checklist is written, or a one-line error names the problems and nothing is.
    ///
    /// This model writes a valid checklist for this goal about half the time (3 of 6 runs with 3 to 6 repairs: the
    /// others name groups in `depends_on` that do not exist, repairs or not), so the test holds what a correct
    /// system guarantees either way: never the fallback's checklist, never an invalid one. One answer, capped at
    /// 1,024 tokens (the calculator's checklist takes about 300): two answers took 583 s, 817 s and more than 900 s in
    /// three runs on two cores kept busy (176 s idle). Repairs are `PlannerTests`' (a scripted server).
    @Test func thePlannerWritesTheModelsValidChecklistOrNothing() async throws {
        let fixture = try await Self.calculator()
        defer { fixture.remove() }
        let server = try await LocalModelServer.start()
        defer { server.stop() }
        let path = fixture.scratch.file("PLAN.md")
        let plan = try await FlotillaBinary.run(
            [
                "plan", "--goal", "Implement add(a, b) and multiply(a, b) in calc.py so that the tests in tests/ pass.",
                "--planner-url", server.baseURL, "--planner-model", LocalModelServer.alias, "--repairs", "0", "-y",
                "--planner-max-tokens", "1024",
                "--file", path, "--output", "json",
            ],
            in: fixture.repository.path,
            timeout: .seconds(1100)  // one answer took 651 s on two busy cores; the suite's limit is 1,200 s
        )
        guard plan.exitCode == 0 else {
            #expect(plan.exitCode == 2, "\(plan.standardError)")
            #expect(
                (plan.standardOutput + plan.standardError).contains(
                    "the planner gave no valid checklist in 1 answer; last problems:"
                )
            )
            #expect(!FileManager.default.fileExists(atPath: path))
            return
        }
        let answer = try #require(
            try JSONSerialization.jsonObject(with: Data(plan.standardOutput.utf8)) as? [String: Any]
        )
        // The model's checklist, not the fallback: valid, with groups and criteria.
        #expect(answer["fallback"] as? Bool == false, "\(plan.standardOutput)\(plan.standardError)")
        #expect((answer["rounds"] as? Int ?? 0) >= 1)
        let checklist = try ChecklistParser.parse(try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(!checklist.groups.isEmpty && checklist.groups.allSatisfy { !$0.criteria.isEmpty })
    }

    @Test func theCriticReviewsARealFailedGateOrTheNextPromptSaysItCouldNot() async throws {
        let fixture = try await Self.calculator()
        defer { fixture.remove() }
        // An agent that gets add wrong once (a subtraction), then right; multiply right at once.
        let agent = try fixture.scratch.write(
            "agent.sh",
            """
            #!/bin/sh
            if [ "$FLOTILLA_GROUP" = add ] && [ "$FLOTILLA_ATTEMPT" = 1 ]; then
                sed -i 's/raise NotImplementedError("add")/return a - b/' calc.py
            elif [ "$FLOTILLA_GROUP" = add ]; then
                sed -i 's/return a - b/return a + b/; s/raise NotImplementedError("add")/return a + b/' calc.py
            else
                sed -i 's/raise NotImplementedError("multiply")/return a * b/' calc.py
            fi

            """,
            executable: true
        )
        let server = try await LocalModelServer.start()
        defer { server.stop() }
        let outcome = try await fixture.run(
            [
                "--agent-command", "sh \(agent)", "--agents", "1", "--critic-url", server.baseURL, "--critic-model",
                LocalModelServer.alias,
            ],
            timeout: .seconds(900)
        )
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        let calls = try await audit.ledger.modelCalls(of: audit.id)
        let critic = try #require(calls.first { $0.call.role == .critic })
        #expect(critic.call.attempt == AttemptKey(group: "add", number: 1))
        #expect(critic.call.usage.inputTokens > 0)
        // Its review reached the next attempt's prompt as advice, or, when the model's answer was not a review, the
        // prompt says so; the gate alone decided either way.
        let attempts = try await audit.attempts()
        let prompt = try audit.prompt("add", 2)
        if critic.call.error == nil {
            #expect(critic.call.usage.outputTokens > 0)
            #expect(prompt.contains("A critic read the gate's output"))
        } else {
            #expect(attempts.first?.feedback?.contains("The critic could not review this attempt") == true)
        }
        #expect(attempts.first { $0.key == AttemptKey(group: "add", number: 1) }?.outcome == .gateFailed)
    }

    @Test func initOffersTheLocalServerAndDoctorAcceptsIt() async throws {
        let fixture = try await Self.calculator()
        defer { fixture.remove() }
        let server = try await LocalModelServer.start()
        defer { server.stop() }
        let config = fixture.scratch.file("config")
        // aider, the local server, the model it serves (offered), no fallback, planner and critic none, no key,
        // verify, agents, budget, yes.
        let answers = "aider\n\(server.baseURL)\n\n\nnone\nnone\n\n./verify.sh\n1\n-1\ny\n"
        let wizard = try await FlotillaBinary.run(
            ["init"],
            in: fixture.repository.path,
            environment: ["XDG_CONFIG_HOME": config, "PATH": "/usr/bin:/bin"],
            standardInput: answers
        )
        #expect(wizard.exitCode == 0, "\(wizard.standardError)")
        #expect(wizard.standardError.contains("(it serves: \(LocalModelServer.alias))"))
        let user = try String(contentsOfFile: config + "/flotilla/config.toml", encoding: .utf8)
        #expect(user.contains("model = '\(Self.model)'\nbase_url = '\(server.baseURL)'\n"), "\(user)")
        #expect(user.contains("max_output_tokens = 1500\nargs = ['--edit-format', 'whole']\n"), "\(user)")
        // doctor finds the server and the model it serves.
        let doctor = try await FlotillaBinary.run(
            ["doctor", "--output", "json"],
            in: fixture.repository.path,
            environment: ["XDG_CONFIG_HOME": config, "PATH": "/usr/bin:/bin"]
        )
        #expect(!doctor.standardOutput.contains("model server"), "\(doctor.standardOutput)")
    }
}
