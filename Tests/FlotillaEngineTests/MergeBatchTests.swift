import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Synchronization
import Testing

/// Landing several verified attempts under one regression verify, and bisecting a batch that fails.
@Suite("Merge batches", .tags(.medium), .timeLimit(.minutes(2)))
struct MergeBatchTests {
    /// The gate: group `g` passes when `g.txt` says `g ok`, and `x` also needs no file named `poison`.
    ///
    /// The order is forced: the gates of the other groups wait for the test's lock, which it releases once the
    /// regression verify of `x` alone (in the staging checkout) has said it started; that verify then waits for a
    /// line on the release FIFO, so the test decides when `x` lands — after the others are queued.
    static func verify(lock: String, started: String, release: String) -> String {
        """
        #!/bin/sh
        if [ "$(basename "$PWD")" = staging ] && [ "$FLOTILLA_GROUPS" = x ]; then
            echo started > \(started); read line < \(release)
        elif [ "$(basename "$PWD")" != staging ] && [ "$FLOTILLA_GROUPS" != x ]; then
            flock -s \(lock) true
        fi
        status=0
        for g in $(echo "${FLOTILLA_GROUPS:-x b c d e}" | tr ',' ' '); do
            grep -qx "$g ok" "$g.txt" 2>/dev/null || { echo "FAIL $g"; status=1; }
        done
        case ",${FLOTILLA_GROUPS:-x}," in *,x,*) [ ! -e poison ] || { echo "FAIL x: poisoned"; status=1; } ;; esac
        exit $status

        """
    }

    static let checklist = """
        # Batches
        ## X
        - [ ] x
        ## B
        - [ ] b
        ## C
        - [ ] c
        ## D
        - [ ] d
        ## E
        - [ ] e
        """

    /// Signals once the gates of the given groups have all passed.
    final class GatesPassed: MissionEventSink {
        private let waiting: Mutex<Set<String>>
        let signal = CompletionSignal()

        init(_ groups: Set<String>) {
            waiting = Mutex(groups)
        }

        func publish(_ event: MissionEvent) {
            guard event.kind == .gatePassed, let group = event.group else { return }
            let done = waiting.withLock { waiting -> Bool in
                waiting.remove(group)
                return waiting.isEmpty
            }
            if done { signal.signal() }
        }
    }

    func run(
        scenario: Scenario,
        waitingFor groups: Set<String>
    ) async throws -> (MissionRunnerTests.Harness, MissionResult) {
        let directory = try TemporaryDirectory(prefix: "flotilla-fifo")
        defer { directory.remove() }
        let started = try FIFOSignal(in: directory, name: "started.fifo")
        let release = try FIFOWriter(in: directory)
        let lock = try HeldLock(directory.file("gates.lock"))
        let harness = try await MissionRunnerTests.Harness.make(
            checklist: Self.checklist,
            verify: Self.verify(lock: lock.path, started: started.path, release: release.path),
            agents: 5,
            mergeBatch: 8
        )
        let gates = GatesPassed(groups)
        let runner = harness.runner(agent: SimulatedAgent(scenario: scenario), sink: gates)
        let result = try await withThrowingTaskGroup(of: MissionResult?.self) { group in
            group.addTask { try await runner.run(harness.spec.id) }
            // `x` lands alone first; only then may the other gates pass and their candidates queue.
            #expect(await started.firstLine() == "started")
            lock.release()
            await gates.signal.wait()
            // Every other candidate waits in the queue now: let `x` land.
            try await release.send("go")
            return try await group.next() ?? nil
        }
        return (harness, try #require(result as MissionResult?))
    }

    func targetCommitsAreVerified(_ harness: MissionRunnerTests.Harness) async throws -> Bool {
        let head = try #require(await harness.repository.resolve("refs/heads/\(harness.spec.targetBranch)"))
        let commits = try await harness.repository.commits(harness.spec.baseCommit, head)
        let verified = Set(
            try await harness.ledger.verifications(of: harness.spec.id)
                .filter { $0.verification.passed && $0.verification.kind != .gate }.map(\.verification.commit)
        )
        return commits.allSatisfy(verified.contains)
    }

    static func write(_ group: String, _ extra: [(String, String)] = []) -> ScenarioStep {
        ScenarioStep(write: [("\(group).txt", "\(group) ok\n")] + extra)
    }

    @Test func waitingCandidatesLandTogetherAsOneVerifiedCommit() async throws {
        let scenario = Scenario(groups: [
            "x": [Self.write("x")], "b": [Self.write("b")], "c": [Self.write("c")], "d": [Self.write("d")],
            "e": [Self.write("e")],
        ])
        let (harness, result) = try await run(scenario: scenario, waitingFor: ["b", "c", "d", "e"])
        defer { harness.repository.directory.remove() }
        #expect(result.reason == .completed)
        let attempts = try await harness.ledger.attempts(of: harness.spec.id)
        #expect(attempts.allSatisfy { $0.outcome == .landed })
        let together = Set(attempts.filter { $0.key.group != "x" }.compactMap(\.landedCommit))
        #expect(together.count == 1, "b, c, d and e should land as one commit")
        let batch = try #require(together.first)
        #expect(try await harness.repository.git("log", "-1", "--format=%s", batch) == "Land 4 groups: b, c, d, e")
        let regression = try await harness.ledger.verifications(of: harness.spec.id)
            .first { $0.verification.kind == .regression && $0.verification.commit == batch }
        #expect(regression?.verification.groups.sorted() == ["b", "c", "d", "e"])
        #expect(regression?.verification.landedGroupsChecked == 1)
        #expect(try await targetCommitsAreVerified(harness))
    }

    @Test func aFailingBatchIsBisectedAndOnlyVerifiedCommitsLand() async throws {
        // d passes its own gate but breaks x; its second attempt does not.
        let scenario = Scenario(groups: [
            "x": [Self.write("x")], "b": [Self.write("b")], "c": [Self.write("c")],
            "d": [Self.write("d", [("poison", "yes\n")]), Self.write("d")], "e": [Self.write("e")],
        ])
        let (harness, result) = try await run(scenario: scenario, waitingFor: ["b", "c", "d", "e"])
        defer { harness.repository.directory.remove() }
        #expect(result.reason == .completed)
        let attempts = try await harness.ledger.attempts(of: harness.spec.id)
        #expect(attempts.first { $0.key == AttemptKey(group: "d", number: 1) }?.outcome == .regression)
        #expect(attempts.filter { $0.outcome == .landed }.map(\.key.group).sorted() == ["b", "c", "d", "e", "x"])
        let events = try await harness.ledger.events(of: harness.spec.id, after: 0, limit: 1000)
        let splits = events.filter { $0.kind == .mergeRequeued && $0.message.contains("trying them apart") }
        // The first split is the whole batch (in the order the gates passed).
        let firstSplit = try #require(splits.first?.data["attempts"])
        #expect(
            Set(firstSplit.description.dropFirst().dropLast().components(separatedBy: ", ")) == [
                "b#1", "c#1", "d#1", "e#1",
            ]
        )
        #expect(splits.count == 2, "4 → 2 + 2, then the failing pair → 1 + 1")
        // No commit on the target branch ever held the poison, and every one was verified as it stands.
        let head = try #require(await harness.repository.resolve("refs/heads/\(harness.spec.targetBranch)"))
        for commit in try await harness.repository.commits(harness.spec.baseCommit, head) {
            #expect(await harness.repository.show(commit, "poison") == nil)
        }
        #expect(try await targetCommitsAreVerified(harness))
        let failed = try await harness.ledger.verifications(of: harness.spec.id)
            .filter { $0.verification.kind == .regression && !$0.verification.passed }
        #expect(failed.count == 3, "the batch of 4, the pair with d, and d alone")
    }
}

/// An exclusive `flock` held by the test until it releases it; `flock -s PATH` in a script waits for that.
private final class HeldLock: Sendable {
    let path: String
    private let descriptor: Int32

    init(_ path: String) throws {
        self.path = path
        descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0, flock(descriptor, LOCK_EX) == 0 else { throw FixtureError("cannot lock \(path)") }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
