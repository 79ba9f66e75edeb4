import FlotillaCore
import FlotillaTestSupport
import Testing

@Suite("Protected paths, prompts and formatting", .tags(.small))
struct ProtectedPathsAndPromptTests {
    @Test(arguments: [
        ("verify.sh", "verify.sh", true), ("verify.sh", "sub/verify.sh", true), ("/verify.sh", "sub/verify.sh", false),
        ("/verify.sh", "verify.sh", true), ("tests", "tests/unit/a.py", true), ("tests/", "tests/a.py", true),
        ("tests", "src/tests/a.py", true), ("/tests", "src/tests/a.py", false),
        ("src/**/*.test.js", "src/a/b/c.test.js", true),
        ("src/**/*.test.js", "src/c.test.js", true), ("*.lock", "deep/Package.lock", true),
        ("*.lock", "lockfile", false),
        ("fixtures/[ab].txt", "fixtures/a.txt", true), ("fixtures/[!ab].txt", "fixtures/a.txt", false),
        ("data/?.csv", "data/1.csv", true), ("data/?.csv", "data/10.csv", false),
    ])
    func globs(pattern: String, path: String, protected: Bool) {
        #expect((ProtectedPaths([pattern]).pattern(protecting: path) != nil) == protected)
    }

    @Test func violationsNameThePattern() {
        let paths = ProtectedPaths(["/verify.sh", "tests/"])
        let found = paths.violations(in: ["src/a.swift", "tests/x.swift", "verify.sh"])
        #expect(found.map(\.path) == ["tests/x.swift", "verify.sh"])
        #expect(found.map(\.pattern) == ["tests/", "/verify.sh"])
    }

    @Test func thePromptNamesFilesByPathOrByAnUnmistakableName() {
        let prompt = AttemptPrompt.render(brief()) + "The tests of it in `tests/test_calc.py`, pass. See README."
        let files = PromptMentions.files(
            in: prompt,
            among: ["README", "calc.py", "sub/verify.sh", "tests/test_calc.py", "tests/test_other.py", "verify.sh"]
        )
        // "./verify.sh" and `verify.sh` name both copies; "README" could be a plain word, so only its path counts.
        #expect(files == ["README", "sub/verify.sh", "tests/test_calc.py", "verify.sh"])
        #expect(PromptMentions.files(in: "Fix README quickly", among: ["docs/README"]).isEmpty)
    }

    func brief(feedback: [AttemptFeedback] = [], escalation: Escalation = .none) -> AttemptBrief {
        AttemptBrief(
            mission: MissionID.random(),
            goal: "Ship it",
            group: ChecklistGroup(id: "api", title: "HTTP API", criteria: ["GET / answers 200"]),
            attempt: feedback.count + 1,
            doneGroups: [("setup", "Project setup")],
            protectedPatterns: ["/verify.sh", "tests/"],
            checkCommand: "./verify.sh",
            checkGroups: "api",
            feedback: feedback,
            escalation: escalation
        )
    }

    @Test func promptCarriesTaskRulesCheckAndFeedback() {
        let feedback = [
            AttemptFeedback(attempt: 1, outcome: .rejected, text: "touched verify.sh\nmore"),
            AttemptFeedback(attempt: 2, outcome: .gateFailed, text: "FAIL api: expected 200"),
            AttemptFeedback(attempt: 3, outcome: .conflict, text: "conflicted in api.swift"),
        ]
        let prompt = AttemptPrompt.render(brief(feedback: feedback))
        #expect(prompt.contains("## Your group: `api` — HTTP API"))
        #expect(prompt.contains("- [ ] GET / answers 200"))
        #expect(prompt.contains("- `setup` — Project setup"))
        #expect(prompt.contains("`verify.sh`, `tests/`"))
        #expect(prompt.contains("FLOTILLA_GROUPS=api"))
        #expect(prompt.contains("- Attempt 1: rejected — touched verify.sh"))
        #expect(prompt.contains("### Attempt 2: gate_failed\n\nFAIL api: expected 200"))
        #expect(prompt.contains("### Attempt 3: conflict"))
        #expect(!prompt.contains("Change of strategy"))
    }

    @Test func escalatedPromptAsksForANewStrategy() {
        #expect(AttemptPrompt.render(brief(escalation: .strategyChange)).contains("## Change of strategy required"))
    }

    /// A 1.5B model answered "Understood." to a prompt that ended with the rules (3 of 4 first attempts in the
    /// evaluation), and every prompt now ends with what to do.
    @Test func everyPromptEndsWithACallToAct() {
        let feedback = [AttemptFeedback(attempt: 1, outcome: .gateFailed, text: "FAIL api")]
        for prompt in [brief(), brief(feedback: feedback), brief(feedback: feedback, escalation: .strategyChange)]
            .map(AttemptPrompt.render)
        {
            #expect(prompt.hasSuffix("## Now\n\n" + AttemptPrompt.callToAct("api") + "\n"), "\(prompt)")
        }
    }

    @Test func aDisputeIsTheLastMarkedLineOfTheAnswerTrimmedAndBounded() {
        #expect(Dispute.reason(inAnswer: "done\n  DISPUTE: the test wants 6   \n") == "the test wants 6")
        #expect(Dispute.reason(inAnswer: "DISPUTE: first\nDISPUTE: second") == "second")
        #expect(Dispute.reason(inAnswer: "I will not DISPUTE: this") == nil, "only a line that starts with it")
        #expect(Dispute.reason(inAnswer: "DISPUTE:   ") == nil, "an empty reason is no dispute")
        #expect(Dispute.reason(inAnswer: nil) == nil)
        #expect(Dispute.reason(String(repeating: "x", count: 5_000))?.count == Dispute.reasonLimit)
        let prompt = AttemptPrompt.render(brief())
        #expect(prompt.contains(Dispute.fileName) && prompt.contains(Dispute.marker))
    }

    @Test func missionIDsAreValidated() {
        #expect(MissionID("m-0123abcd") != nil)
        #expect(MissionID("m-0123ABCD") == nil)
        #expect(MissionID("../../etc") == nil)
        #expect(MissionID(MissionID.random().rawValue) != nil)
    }

    @Test func moneyAndTimeReadWell() {
        #expect(formatUSD(0) == "$0.00")
        #expect(formatUSD(1.234) == "$1.23")
        #expect(formatUSD(0.0042) == "$0.0042")
        #expect(Duration.milliseconds(850).shortDescription == "850ms")
        #expect(Duration.milliseconds(4200).shortDescription == "4.2s")
        #expect(Duration.seconds(185).shortDescription == "3m 05s")
    }

    @Test func verifyReportCountsPassingCriteria() {
        let report: JSONValue = .object([
            "groups": .object([
                "api": .object(["criteria": .object(["a": true, "b": false, "c": .object(["passed": true])])])
            ])
        ])
        let verification = Verification(
            kind: .gate,
            attempt: AttemptKey(group: "api", number: 1),
            commit: String(repeating: "a", count: 40),
            command: "x",
            groups: ["api"],
            exitCode: 1,
            passed: false,
            timedOut: false,
            duration: .zero,
            outputTail: "",
            report: report
        )
        #expect(verification.criteria(in: "api") == CriteriaScore(passed: 2, total: 3))
        #expect(verification.criteria(in: "other") == nil)
    }
}
