import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaGit
import FlotillaStore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Synchronization
import Testing

/// The loop in-process, with real git and a real (in-memory) SQLite ledger, and a manual clock or a failing git
/// where a test must control time or failure.
@Suite("Mission runner (in-process)", .tags(.medium), .timeLimit(.minutes(10)))
struct MissionRunnerTests {
    struct Harness {
        let repository: FixtureRepository
        let ledger: SQLiteLedger
        let spec: MissionSpec
        let layout: MissionLayout

        static func make(
            limits: MissionLimits = MissionLimits(),
            checklist text: String = "# Goal\n\n## A\n- [ ] a.txt says a ok\n",
            verify: String = "#!/bin/sh\ngrep -qx 'a ok' a.txt\n",
            agents: Int = 1,
            mergeBatch: Int = 1
        ) async throws -> Harness {
            let repository = try await FixtureRepository(
                files: ["verify.sh": verify, "README": "x\n"],
                executables: ["verify.sh"]
            )
            let layout = MissionLayout(repository: repository.path)
            let git = GitCLI(
                root: repository.path,
                runner: SubprocessRunner(),
                environment: FixtureRepository.environment
            )
            let checklist = try ChecklistParser.parse(text, file: "ACCEPTANCE.md")
            let preparation = MissionPreparation(git: git, layout: layout)
            var fields = MissionFields()
            fields.verify = "./verify.sh"
            fields.agents = agents
            fields.mergeBatch = mergeBatch
            fields.setLimits(limits)
            let prepared = try await preparation.prepare(
                MissionRequest(
                    checklist: checklist,
                    checklistPath: repository.directory.file("ACCEPTANCE.md"),
                    backend: .simulate,
                    fields: fields
                )
            )
            let ledger = try SQLiteLedger(inMemory: ())
            try await preparation.create(prepared, ledger: ledger, now: Date(), sink: EventBus([]))
            return Harness(repository: repository, ledger: ledger, spec: prepared.spec, layout: layout)
        }

        func runner(
            agent: any AgentBackend,
            git: (any GitRepository)? = nil,
            clock: any Clock<Duration> = ContinuousClock(),
            sink: any MissionEventSink = EventBus([])
        ) -> MissionRunner {
            MissionRunner(
                ports: MissionRunner.Ports(
                    ledger: ledger,
                    git: git
                        ?? GitCLI(
                            root: repository.path,
                            runner: SubprocessRunner(),
                            environment: FixtureRepository.environment
                        ),
                    agent: agent,
                    processes: SubprocessRunner(),
                    clock: clock
                ),
                options: MissionRunner.Options(environment: FixtureRepository.environment),
                layout: layout,
                sink: sink
            )
        }

        func leftovers() async throws -> [String] {
            let worktrees = try await repository.worktrees().filter { $0 != repository.path }
            let checkouts = (try? FileManager.default.contentsOfDirectory(atPath: layout.worktrees(spec.id))) ?? []
            return worktrees + checkouts
                + (try await repository.branches().filter { $0.hasPrefix("flotilla/attempts/") })
        }
    }

    static let hang = Scenario(groups: ["a": [ScenarioStep(hang: true)]])

    @Test func stoppingEndsRunningAttemptsAndExits4() async throws {
        let harness = try await Harness.make()
        defer { harness.repository.directory.remove() }
        let clock = ManualClock()
        let stop = CompletionSignal()
        let runner = harness.runner(agent: SimulatedAgent(scenario: Self.hang, clock: clock), clock: clock)
        let result = try await withThrowingTaskGroup(of: MissionResult?.self) { group in
            group.addTask { try await runner.run(harness.spec.id, stop: stop) }
            // The agent is hanging once it sleeps on both its hang and its attempt timeout.
            await clock.waitForSleepers(2)
            stop.signal()
            return try await group.next() ?? nil
        }
        #expect(result?.reason == .stopped)
        #expect(result?.reason.exitCode == 4)
        let attempts = try await harness.ledger.attempts(of: harness.spec.id)
        #expect(attempts.map(\.outcome) == [.interrupted])
        #expect(try await harness.ledger.mission(harness.spec.id)?.state == .stopped)
        #expect(try await harness.ledger.groups(of: harness.spec.id).map(\.status) == [.pending])
        #expect(try await harness.leftovers() == [])
    }

    @Test func theWallClockBreakerCountsRunningTime() async throws {
        let harness = try await Harness.make(limits: MissionLimits(maxWallClock: .seconds(60)))
        defer { harness.repository.directory.remove() }
        let clock = ManualClock()
        let runner = harness.runner(agent: SimulatedAgent(scenario: Self.hang, clock: clock), clock: clock)
        let result = try await withThrowingTaskGroup(of: MissionResult?.self) { group in
            group.addTask { try await runner.run(harness.spec.id) }
            // Wall-clock timer, attempt timeout and the hang itself.
            await clock.waitForSleepers(3)
            clock.advance(by: .seconds(61))
            return try await group.next() ?? nil
        }
        #expect(result?.reason == .maxWallClock)
        #expect(result?.reason.exitCode == 5)
        let record = try #require(try await harness.ledger.mission(harness.spec.id))
        #expect(record.stopReason == .maxWallClock)
        #expect(record.breakerDetail?.contains("1m 01s of 1m 00s") == true)
        #expect(try await harness.ledger.attempts(of: harness.spec.id).map(\.outcome) == [.interrupted])
    }

    @Test func anAttemptTimeoutOnTheInjectedClockRetries() async throws {
        let harness = try await Harness.make(limits: MissionLimits(attemptTimeout: .seconds(30)))
        defer { harness.repository.directory.remove() }
        let clock = ManualClock()
        let scenario = Scenario(groups: ["a": [ScenarioStep(hang: true), ScenarioStep(write: [("a.txt", "a ok\n")])]])
        let runner = harness.runner(agent: SimulatedAgent(scenario: scenario, clock: clock), clock: clock)
        let result = try await withThrowingTaskGroup(of: MissionResult?.self) { group in
            group.addTask { try await runner.run(harness.spec.id) }
            await clock.waitForSleepers(2)
            clock.advance(by: .seconds(31))
            return try await group.next() ?? nil
        }
        #expect(result?.reason == .completed)
        #expect(try await harness.ledger.attempts(of: harness.spec.id).map(\.outcome) == [.timedOut, .landed])
    }

    @Test func aGitFailureEndsTheMissionFailedAndCleansUp() async throws {
        let harness = try await Harness.make()
        defer { harness.repository.directory.remove() }
        let scenario = Scenario(groups: ["a": [ScenarioStep(write: [("a.txt", "wrong\n")])]])
        let real = GitCLI(
            root: harness.repository.path,
            runner: SubprocessRunner(),
            environment: FixtureRepository.environment
        )
        let runner = harness.runner(
            agent: SimulatedAgent(scenario: scenario),
            git: FailingWorktrees(real, failOnAttempt: 2)
        )
        let result = try await runner.run(harness.spec.id)
        #expect(result.reason == .failed)
        #expect(result.summary.contains("error: attempt a#2"))
        #expect(result.summary.contains("disk full (simulated)"))
        let record = try #require(try await harness.ledger.mission(harness.spec.id))
        #expect(record.state == .failed)
        #expect(try await harness.ledger.attempts(of: harness.spec.id).map(\.outcome) == [.gateFailed, .interrupted])
        #expect(try await harness.leftovers() == [])
    }
}

/// Real git, except that preparing agents' checkouts fails from the `failOn`th attempt on (past the fallback too).
final class FailingWorktrees: GitRepository {
    let real: GitCLI
    let failOn: Int
    private let preparations = Mutex(0)

    init(_ real: GitCLI, failOnAttempt: Int) {
        self.real = real
        self.failOn = failOnAttempt
    }

    struct SimulatedFailure: Error, CustomStringConvertible {
        var description: String { "disk full (simulated)" }
    }

    private func prepare() throws {
        let count = preparations.withLock { count -> Int in
            count += 1
            return count
        }
        if count >= failOn { throw SimulatedFailure() }
    }

    var root: String { real.root }
    var objectsDirectory: String { real.objectsDirectory }
    func checkout(_ commit: String, into directory: String, index: String) async throws {
        if directory.contains("/agent-") { try prepare() }
        try await real.checkout(commit, into: directory, index: index)
    }
    func snapshot(
        _ directory: String,
        index: String,
        parent: String,
        message: String,
        author: GitIdentity
    ) async throws -> String? {
        try await real.snapshot(directory, index: index, parent: parent, message: message, author: author)
    }
    func prepareOwnRepository(in directory: String, at commit: String, index: String, objects: String) throws {
        try real.prepareOwnRepository(in: directory, at: commit, index: index, objects: objects)
    }
    var sharedObjectsDirectory: String { real.sharedObjectsDirectory }
    func share(_ commit: String) async throws { try await real.share(commit) }
    func removeCheckout(_ directory: String, index: String) throws { try real.removeCheckout(directory, index: index) }
    func tree(_ tree: String, restoring paths: [String], from source: String) async throws -> String {
        try await real.tree(tree, restoring: paths, from: source)
    }
    func pointBranch(_ name: String, at commit: String) async throws { try await real.pointBranch(name, at: commit) }
    func resolveCommit(_ revision: String) async throws -> String? { try await real.resolveCommit(revision) }
    func tree(of commit: String) async throws -> String { try await real.tree(of: commit) }
    func createBranch(_ name: String, at commit: String, force: Bool) async throws {
        try await real.createBranch(name, at: commit, force: force)
    }
    func deleteBranches(_ names: [String]) async throws { try await real.deleteBranches(names) }
    func branchExists(_ name: String) async throws -> Bool { try await real.branchExists(name) }
    func changes(from: String, to: String) async throws -> (paths: [String], stat: DiffStat) {
        try await real.changes(from: from, to: to)
    }
    func diff(from: String, to: String) async throws -> String { try await real.diff(from: from, to: to) }
    func checkoutVerified(_ commit: String, into directory: String, index: String) async throws -> [String] {
        try await real.checkoutVerified(commit, into: directory, index: index)
    }
    func additions(from: String, to: String) async throws -> Additions { try await real.additions(from: from, to: to) }
    func paths(at commit: String) async throws -> Set<String> { try await real.paths(at: commit) }
    func mergeTree(ours: String, theirs: String) async throws -> MergeTreeResult {
        try await real.mergeTree(ours: ours, theirs: theirs)
    }
    func commitTree(_ tree: String, parents: [String], message: String, author: GitIdentity) async throws -> String {
        try await real.commitTree(tree, parents: parents, message: message, author: author)
    }
    func updateRef(_ ref: String, to newCommit: String, expecting expected: String) async throws -> Bool {
        try await real.updateRef(ref, to: newCommit, expecting: expected)
    }
    func fileContents(at commit: String, path: String) async throws -> String? {
        try await real.fileContents(at: commit, path: path)
    }
    func fileMode(at commit: String, path: String) async throws -> Int? {
        try await real.fileMode(at: commit, path: path)
    }
    func commits(from base: String, to head: String) async throws -> [String] {
        try await real.commits(from: base, to: head)
    }
    func pruneWorktrees() async throws { try await real.pruneWorktrees() }
    func userRefs() async throws -> [String: String] { try await real.userRefs() }
    func currentBranch() async throws -> String? { try await real.currentBranch() }
    func uncommittedPaths() async throws -> [String] { try await real.uncommittedPaths() }
    func excludeLocally(_ pattern: String) async throws { try await real.excludeLocally(pattern) }
    func push(
        _ commit: String,
        to remote: String,
        branch: String,
        expecting expected: String?
    ) async throws
        -> PushOutcome
    { try await real.push(commit, to: remote, branch: branch, expecting: expected) }
    func advanceWorkingTree(from old: String, to new: String) async throws {
        try await real.advanceWorkingTree(from: old, to: new)
    }
}
