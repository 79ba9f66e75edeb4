import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaGit
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

/// The loop's decisions — what runs when, what lands, what is retried, blocked or stopped — on an in-memory git
/// and a scripted verify: no process starts, so each mission takes milliseconds.
@Suite("The loop's decisions (in-memory git, scripted verify)", .tags(.small), .timeLimit(.minutes(10)))
struct LoopDecisionTests {
    /// A mission on an in-memory repository whose verify passes a group when `<group>.txt` says `<group> ok`, and
    /// fails `x` wherever a file `poison` exists.
    struct Mission {
        let directory: TemporaryDirectory
        let git: InMemoryGit
        let ledger: SQLiteLedger
        let spec: MissionSpec
        let layout: MissionLayout
        let verify: ScriptedProcessRunner

        init(
            _ checklist: String,
            agents: Int = 2,
            mergeBatch: Int = 1,
            limits: MissionLimits = MissionLimits(),
            configure: (inout MissionFields) -> Void = { _ in }
        ) async throws {
            directory = try TemporaryDirectory(prefix: "flotilla-memory")
            git = try InMemoryGit(
                root: directory.path,
                files: ["verify.sh": "#!/bin/sh\n", "README": "x\n"],
                executables: ["verify.sh"]
            )
            layout = MissionLayout(repository: directory.path)
            let parsed = try ChecklistParser.parse(checklist, file: "ACCEPTANCE.md")
            var fields = MissionFields()
            fields.verify = "./verify.sh"
            fields.agents = agents
            fields.mergeBatch = mergeBatch
            fields.setLimits(limits)
            configure(&fields)
            let preparation = MissionPreparation(git: git, layout: layout)
            let prepared = try await preparation.prepare(
                MissionRequest(
                    checklist: parsed,
                    checklistPath: directory.file("ACCEPTANCE.md"),
                    backend: .simulate,
                    fields: fields
                )
            )
            ledger = try SQLiteLedger(inMemory: ())
            try await preparation.create(prepared, ledger: ledger, now: Date(), sink: EventBus([]))
            spec = prepared.spec
            let all = parsed.groups.map(\.id)
            verify = ScriptedProcessRunner { request in Self.verdict(request, all: all) }
        }

        /// What the verify says of a request: `<group>.txt` must say `<group> ok` for each group it checks (all of
        /// `all` in the final verify), and no file `poison` may exist where `x` is checked.
        static func verdict(_ request: ProcessRequest, all: [String]) -> ProcessResult {
            ScriptedProcessRunner.verdict(request, all: all) { checkout, group in
                let said = try? String(contentsOfFile: checkout + "/\(group).txt", encoding: .utf8)
                let poisoned = group == "x" && FileManager.default.fileExists(atPath: checkout + "/poison")
                return said == "\(group) ok\n" && !poisoned
            }
        }

        func run(
            _ scenario: Scenario,
            verify: ScriptedProcessRunner? = nil,
            sink: any MissionEventSink = EventBus([])
        ) async throws -> MissionResult {
            let runner = MissionRunner(
                ports: MissionRunner.Ports(
                    ledger: ledger,
                    git: git,
                    agent: SimulatedAgent(scenario: scenario),
                    processes: verify ?? self.verify
                ),
                options: MissionRunner.Options(environment: [:]),
                layout: layout,
                sink: sink
            )
            return try await runner.run(spec.id)
        }

        /// Runs the mission with attempts answered by `executor`, landings judged by `verify` (else the mission's),
        /// time from `clock` (and the dates it gives after `start`), and events told to `sink`.
        func run(
            _ executor: ScriptedAttemptExecutor,
            verify: ScriptedProcessRunner? = nil,
            clock: ManualClock = ManualClock(),
            start: Date = Date(timeIntervalSince1970: 1_800_000_000),
            sink: any MissionEventSink = EventBus([]),
            stop: CompletionSignal = CompletionSignal()
        ) async throws -> MissionResult {
            let runner = MissionRunner(
                ports: MissionRunner.Ports(
                    ledger: ledger,
                    git: git,
                    agent: SimulatedAgent(scenario: Scenario(groups: [:])),
                    processes: verify ?? self.verify,
                    clock: clock,
                    now: { start.addingTimeInterval(clock.now.offset.seconds) },
                    executor: executor
                ),
                options: MissionRunner.Options(environment: [:]),
                layout: layout,
                sink: sink
            )
            return try await runner.run(spec.id, stop: stop)
        }

        /// A commit on `parent` where `<group>.txt` says it passes (and `extra` files are written too).
        func passing(_ group: String, on parent: String, also extra: [String: String] = [:]) throws -> String {
            try git.commit(writing: ["\(group).txt": "\(group) ok\n"].merging(extra) { $1 }, onto: parent)
        }

        func outcomes(_ group: String) async throws -> [AttemptOutcome?] {
            try await ledger.attempts(of: spec.id).filter { $0.key.group == group }.map(\.outcome)
        }

        /// Every commit on the target since the base passed a regression or final verify of exactly that commit.
        func targetIsVerified() async throws -> Bool {
            let head = try #require(try await git.resolveCommit("refs/heads/\(spec.targetBranch)"))
            let verified = Set(
                try await ledger.verifications(of: spec.id)
                    .filter { $0.verification.passed && $0.verification.kind != .gate }.map(\.verification.commit)
            )
            return try await git.commits(from: spec.baseCommit, to: head).allSatisfy(verified.contains)
        }
    }

    static func write(_ group: String, _ text: String? = nil, also extra: [(String, String)] = []) -> ScenarioStep {
        ScenarioStep(write: [("\(group).txt", text ?? "\(group) ok\n")] + extra)
    }

    @Test func aGroupStartsOnlyOnceWhatItDependsOnHasLanded() async throws {
        let mission = try await Mission("# G\n## A\n- [ ] a\n## B\nDepends on: a\n- [ ] b\n## C\n- [ ] c\n")
        defer { mission.directory.remove() }
        let result = try await mission.run(
            Scenario(groups: ["a": [Self.write("a")], "b": [Self.write("b")], "c": [Self.write("c")]])
        )
        #expect(result.reason == .completed)
        let events = try await mission.ledger.events(of: mission.spec.id, after: 0, limit: 1000)
        let landedA = try #require(events.firstIndex { $0.kind == .attemptLanded && $0.group == "a" })
        let startedB = try #require(events.firstIndex { $0.kind == .attemptStarted && $0.group == "b" })
        #expect(startedB > landedA)
        #expect(try await mission.targetIsVerified())
    }

    @Test func aFailedGateIsRetriedWithAFreshSessionAndTheGroupLands() async throws {
        let mission = try await Mission("# G\n## A\n- [ ] a\n")
        defer { mission.directory.remove() }
        let result = try await mission.run(Scenario(groups: ["a": [Self.write("a", "wrong\n"), Self.write("a")]]))
        #expect(result.reason == .completed)
        #expect(try await mission.outcomes("a") == [.gateFailed, .landed])
        // The next session is told what the gate said.
        let second = try #require(try await mission.ledger.attempts(of: mission.spec.id).last)
        #expect(try String(contentsOfFile: second.promptPath, encoding: .utf8).contains("FAIL: a"))
    }

    @Test func aGroupThatKeepsFailingIsBlockedWithItsDependentsAndTheRestLands() async throws {
        let mission = try await Mission(
            "# G\n## A\n- [ ] a\n## B\nDepends on: a\n- [ ] b\n## C\n- [ ] c\n",
            limits: MissionLimits(stallThreshold: 1)
        )
        defer { mission.directory.remove() }
        let result = try await mission.run(
            Scenario(groups: ["a": [Self.write("a", "wrong\n")], "c": [Self.write("c")]])
        )
        #expect(result.reason == .blocked)
        let groups = Dictionary(
            uniqueKeysWithValues: try await mission.ledger.groups(of: mission.spec.id).map { ($0.id, $0) }
        )
        #expect(groups["a"]?.status == .blocked)
        #expect(groups["b"]?.status == .blocked && groups["b"]?.attempts == 0)
        #expect(groups["c"]?.status == .done)
        #expect(try await mission.outcomes("a").allSatisfy { $0 == .gateFailed })
    }

    @Test func aCandidateThatBreaksALandedGroupNeverLands() async throws {
        let mission = try await Mission("# G\n## X\n- [ ] x\n## D\nDepends on: x\n- [ ] d\n")
        defer { mission.directory.remove() }
        // d's first attempt passes its own gate but breaks x; its second does not.
        let result = try await mission.run(
            Scenario(groups: [
                "x": [Self.write("x")], "d": [Self.write("d", also: [("poison", "yes\n")]), Self.write("d")],
            ])
        )
        #expect(result.reason == .completed)
        #expect(try await mission.outcomes("d") == [.regression, .landed])
        let head = try #require(try await mission.git.resolveCommit("refs/heads/\(mission.spec.targetBranch)"))
        #expect(try await mission.git.fileContents(at: head, path: "poison") == nil)
        #expect(try await mission.targetIsVerified())
    }

    @Test func ofTwoCandidatesThatConflictOneLandsAndTheOtherIsRetriedOnTheNewHead() async throws {
        let mission = try await Mission("# G\n## B\n- [ ] b\n## C\n- [ ] c\n")
        defer { mission.directory.remove() }
        // Both attempts start from the base at once (two agents, both ready) and write one shared file.
        let result = try await mission.run(
            Scenario(groups: [
                "b": [Self.write("b", also: [("shared", "b\n")]), Self.write("b", also: [("shared", "b\n")])],
                "c": [Self.write("c", also: [("shared", "c\n")]), Self.write("c", also: [("shared", "c\n")])],
            ])
        )
        #expect(result.reason == .completed)
        let all = try await mission.ledger.attempts(of: mission.spec.id)
        #expect(all.filter { $0.outcome == .conflict }.count == 1)
        #expect(all.filter { $0.outcome == .landed }.count == 2)
        #expect(try await mission.targetIsVerified())
    }

    @Test func theAttemptBreakerStopsAMissionThatGetsNowhere() async throws {
        let mission = try await Mission(
            "# G\n## A\n- [ ] a\n",
            limits: MissionLimits(maxAttempts: 2, stallThreshold: 50)
        )
        defer { mission.directory.remove() }
        let result = try await mission.run(Scenario(groups: ["a": [Self.write("a", "wrong\n")]]))
        #expect(result.reason == .maxAttempts)
        #expect(try await mission.outcomes("a").count == 2)
        #expect(
            try await mission.git.resolveCommit("refs/heads/\(mission.spec.targetBranch)") == mission.spec.baseCommit
        )
    }
}
