import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Pipelines in configuration files: the contract and every mistake with its line", .tags(.small))
struct PipelineConfigurationTests {
    static let feature = """
        verify = "./verify.sh"

        [pipeline.feature]
        steps = ["plan", "implement", "gate", "review", "docs"]

        [pipeline.feature.plan]
        backend = "claude"
        model = "opus"
        mode = "read-only"
        prompt = "prompts/plan.md"
        outputs = ["plan.md"]
        timeout = 300

        [pipeline.feature.implement]
        inputs = ["plan/plan.md"]
        retries = 1

        [pipeline.feature.review]
        mode = "read-only"
        inputs = ["plan/plan.md", "implement/patch.diff", "gate/output.txt"]
        verdict = "review.json"
        on_fail = "goto:implement"
        max_loops = 3

        [pipeline.feature.docs]
        paths = ["docs/**", "README.md"]
        on_fail = "continue"
        """

    static func parse(_ text: String) throws(ConfigurationError) -> ConfigurationFile {
        try ConfigurationFile.parse(text, file: "flotilla.toml", scope: .project)
    }

    static func message(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aPipelineIsReadWithEveryStepsSettingsAndDefaults() throws {
        let pipeline = try #require(try Self.parse(Self.feature).pipelines["feature"])
        #expect(pipeline.steps.map(\.id) == ["plan", "implement", "gate", "review", "docs"])
        let plan = try #require(pipeline.step("plan"))
        #expect(plan.backend == .claude)
        #expect(plan.model == "opus")
        #expect(plan.mode == .readOnly)
        #expect(plan.prompt == "prompts/plan.md")
        #expect(plan.outputs == ["plan.md"])
        #expect(plan.timeoutSeconds == 300)
        #expect(plan.onFail == .stop)
        let implement = try #require(pipeline.step("implement"))
        #expect(implement.backend == nil)
        #expect(implement.mode == .write)
        #expect(implement.inputs == [PipelineInput(step: "plan", file: "plan.md")])
        #expect(implement.retries == 1)
        #expect(pipeline.step("gate")?.isGate == true)
        let review = try #require(pipeline.step("review"))
        #expect(review.verdict == "review.json")
        #expect(review.onFail == .goto("implement"))
        #expect(review.maxLoops == 3)
        #expect(review.inputs.map(\.description) == ["plan/plan.md", "implement/patch.diff", "gate/output.txt"])
        let docs = try #require(pipeline.step("docs"))
        #expect(docs.paths == ["docs/**", "README.md"])
        #expect(docs.onFail == .proceed)
        #expect(docs.maxLoops == PipelineStep.defaultMaxLoops)
        #expect(pipeline.promptFiles == ["prompts/plan.md"])
    }

    @Test func aPipelineSurvivesJSONAsTheMissionStoresIt() throws {
        let pipeline = try #require(try Self.parse(Self.feature).pipelines["feature"])
        let data = try JSONEncoder().encode(pipeline)
        #expect(try JSONDecoder().decode(Pipeline.self, from: data) == pipeline)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"goto:implement\""))
        #expect(text.contains("\"plan\\/plan.md\"") || text.contains("\"plan/plan.md\""))
    }

    @Test(arguments: [
        // The tables themselves.
        (
            "[pipeline]\nsteps = ['a']",
            "flotilla.toml:1: a pipeline is [pipeline.NAME] with its steps in [pipeline.NAME.STEP] tables, not [pipeline]"
        ),
        (
            "[pipeline.Feature]\nsteps = ['a']",
            "flotilla.toml:1: [pipeline.Feature]: \"Feature\" is not a name (lowercase letters, digits, - and _, a letter first)"
        ),
        (
            "[pipeline.f.a.b]\nx = 1",
            "flotilla.toml:1: a pipeline is [pipeline.NAME] with its steps in [pipeline.NAME.STEP] tables, not [pipeline.f.a.b]"
        ),
        ("[pipeline.f.a]\nmode = 'write'", "flotilla.toml:1: [pipeline.f] is missing: it lists the pipeline's steps"),
        (
            "[pipeline.f]\nstep = ['a']",
            "flotilla.toml:2: unknown key pipeline.f.step (known: steps; a step's settings go in [pipeline.f.STEP])"
        ),
        (
            "[pipeline.f]",
            "flotilla.toml:1: [pipeline.f] needs steps, the step names in order (steps = [\"plan\", \"implement\"])"
        ),
        ("[pipeline.f]\nsteps = []", "flotilla.toml:2: pipeline.f.steps must be a non-empty list of step names"),
        ("[pipeline.f]\nsteps = ['a', 'a']", "flotilla.toml:2: pipeline.f.steps names a twice"),
        (
            "[pipeline.f]\nsteps = ['gate']",
            "flotilla.toml:2: pipeline.f.steps has no step but the gate: a pipeline runs at least one agent"
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.b]\nmode = 'write'",
            "flotilla.toml:3: [pipeline.f.b] is not one of pipeline.f.steps (a)"
        ),
        (
            "[pipeline.f]\nsteps = ['a', 'gate']\n[pipeline.f.gate]\nmode = 'write'",
            "flotilla.toml:3: [pipeline.f.gate] takes no settings: the gate step runs the mission's verify and checks"
        ),
        // A step's settings.
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\ncolour = 1",
            "flotilla.toml:4: unknown key pipeline.f.a.colour (known: backend, model, command, mode, prompt, inputs, outputs, timeout, retries, verdict, on_fail, max_loops, paths)"
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\nbackend = 'gpt'",
            "flotilla.toml:4: pipeline.f.a.backend: gpt is not a backend (simulate, command, claude, codex, gemini, opencode, cursor, aider, mini)"
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\nmodel = 'opus'",
            "flotilla.toml:4: pipeline.f.a.model needs pipeline.f.a.backend: the mission's backend has its model"
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\nmode = 'readonly'",
            "flotilla.toml:4: pipeline.f.a.mode must be read-only or write, not readonly"
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\nprompt = '../p.md'",
            "flotilla.toml:4: pipeline.f.a.prompt: ../p.md must be a relative path without . or .."
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\noutputs = ['patch.diff']",
            "flotilla.toml:4: pipeline.f.a.outputs: patch.diff is a file Flotilla writes for every step"
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\ntimeout = 0",
            "flotilla.toml:4: pipeline.f.a.timeout must be a number of seconds from 1 to 3600"
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\nretries = 11",
            "flotilla.toml:4: pipeline.f.a.retries must be a whole number from 0 to 10"
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\non_fail = 'retry'",
            "flotilla.toml:4: pipeline.f.a.on_fail must be stop, continue, goto:STEP or human, not retry"
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\nmax_loops = 2",
            "flotilla.toml:4: pipeline.f.a.max_loops counts the returns of on_fail = \"goto:STEP\""
        ),
        (
            "[pipeline.f]\nsteps = ['a', 'b']\n[pipeline.f.a]\nmode = 'read-only'\npaths = ['x']",
            "flotilla.toml:5: pipeline.f.a.paths limits where a step writes, and a is read-only"
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\ninputs = ['plan.md']",
            "flotilla.toml:4: pipeline.f.a.inputs: plan.md is not STEP/FILE (plan/plan.md)"
        ),
        // References between steps.
        (
            "[pipeline.f]\nsteps = ['a', 'b']\n[pipeline.f.a]\ninputs = ['b/patch.diff']",
            "flotilla.toml:4: pipeline.f.a.inputs: b/patch.diff reads step b, which does not run before a (no step does)"
        ),
        (
            "[pipeline.f]\nsteps = ['a', 'b']\n[pipeline.f.b]\ninputs = ['a/plan.md']",
            "flotilla.toml:4: pipeline.f.b.inputs: step a leaves no plan.md (it leaves patch.diff, result.json)"
        ),
        (
            "[pipeline.f]\nsteps = ['a', 'gate', 'b']\n[pipeline.f.b]\ninputs = ['gate/log.txt']",
            "flotilla.toml:4: pipeline.f.b.inputs: step gate leaves no log.txt (it leaves output.txt)"
        ),
        (
            "[pipeline.f]\nsteps = ['a', 'b']\n[pipeline.f.a]\non_fail = 'goto:b'",
            "flotilla.toml:4: pipeline.f.a.on_fail: goto goes back to an earlier agent step, and b is not one (none runs before a)"
        ),
        (
            "[pipeline.f]\nsteps = ['a', 'gate', 'b']\n[pipeline.f.b]\non_fail = 'goto:gate'",
            "flotilla.toml:4: pipeline.f.b.on_fail: goto goes back to an earlier agent step, and gate is not one (earlier: a)"
        ),
        (
            "[pipeline.f]\nsteps = ['a']\n[pipeline.f.a]\nmode = 'read-only'",
            "flotilla.toml:1: every step of pipeline.f is read-only: nothing it does could land"
        ),
    ])
    func everyMistakeIsOneLineNamingTheFileAndLine(_ text: String, _ expected: String) {
        #expect(Self.message(text) == expected)
    }

    @Test func theChecklistNamesAPipelineAndTheMissionChecksItExists() throws {
        let checklist = try ChecklistParser.parse(
            """
            # Mission

            ## Parser
            Pipeline: feature
            - [ ] it parses

            ## Docs
            - [ ] documented
            """,
            file: "ACCEPTANCE.md"
        )
        #expect(checklist.group("parser")?.pipeline == "feature")
        #expect(checklist.group("docs")?.pipeline == nil)
        #expect(ChecklistRenderer.render(checklist).contains("Pipeline: feature\n"))
        let roundTrip = try JSONDecoder().decode(Checklist.self, from: JSONEncoder().encode(checklist))
        #expect(roundTrip == checklist)
        let defined = try Self.parse(Self.feature).pipelines
        #expect(try Pipeline.chosen(by: checklist, mission: nil, defined: defined).map(\.name) == ["feature"])
        #expect(throws: FlotillaError.self) {
            try Pipeline.chosen(by: checklist, mission: nil, defined: [:])
        }
        do {
            _ = try Pipeline.chosen(by: checklist, mission: "quick", defined: defined)
            Issue.record("an undefined pipeline was accepted")
        } catch {
            #expect(
                error.description
                    == "--pipeline names pipeline quick, which no [pipeline.quick] in flotilla.toml or config.toml "
                    + "defines (defined: feature)"
            )
        }
        let bad = ChecklistParser.parseUnvalidated("# M\n\n## A\nPipeline: Big One\n- [ ] x\n", file: "ACCEPTANCE.md")
        #expect(
            bad.2.map(\.description) == [
                "ACCEPTANCE.md:4: `Pipeline:` of group `a` must name a pipeline, not `Big One`"
            ]
        )
    }

    @Test func aStepWaitsTwoSecondsDoublingToThirtyBetweenTries() {
        #expect(
            (2...7).map { PipelineStep.backoff(beforeTry: $0) }
                == [.seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30)]
        )
    }
}
