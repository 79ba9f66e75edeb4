import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaGit
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Synchronization
import Testing

/// Landing several verified attempts under one regression verify, and bisecting a batch that fails, on the
/// in-memory git and a scripted verify.
///
/// The order is forced with signals, not timing: the gates of every group but `x` wait until the regression
/// verify of `x` alone (in the staging checkout) has started; that verify waits until the others' gates have
/// passed, so their candidates are queued together while `x` lands.
@Suite("Merge batches", .tags(.small), .timeLimit(.minutes(10)))
struct MergeBatchTests {
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
        _ scenario: Scenario,
        waitingFor groups: Set<String>
    ) async throws -> (LoopDecisionTests.Mission, MissionResult) {
        let mission = try await LoopDecisionTests.Mission(Self.checklist, agents: 5, mergeBatch: 8)
        let xLanding = CompletionSignal()
        let othersPassed = GatesPassed(groups)
        let staging = mission.layout.stagingWorktree(mission.spec.id)
        let all = ["x"] + groups.sorted()
        let verify = ScriptedProcessRunner { request in
            let groups = request.environment["FLOTILLA_GROUPS"] ?? ""
            if request.workingDirectory == staging && groups == "x" {
                xLanding.signal()
                await othersPassed.signal.wait()
            } else if request.workingDirectory != staging && groups != "x" {
                await xLanding.wait()
            }
            return LoopDecisionTests.Mission.verdict(request, all: all)
        }
        let result = try await mission.run(scenario, verify: verify, sink: othersPassed)
        return (mission, result)
    }

    @Test func waitingCandidatesLandTogetherAsOneVerifiedCommit() async throws {
        let scenario = Scenario(groups: [
            "x": [LoopDecisionTests.write("x")], "b": [LoopDecisionTests.write("b")],
            "c": [LoopDecisionTests.write("c")], "d": [LoopDecisionTests.write("d")],
            "e": [LoopDecisionTests.write("e")],
        ])
        let (mission, result) = try await run(scenario, waitingFor: ["b", "c", "d", "e"])
        defer { mission.directory.remove() }
        #expect(result.reason == .completed)
        let attempts = try await mission.ledger.attempts(of: mission.spec.id)
        #expect(attempts.allSatisfy { $0.outcome == .landed })
        let together = Set(attempts.filter { $0.key.group != "x" }.compactMap(\.landedCommit))
        #expect(together.count == 1, "b, c, d and e should land as one commit")
        let batch = try #require(together.first)
        #expect(mission.git.commitMessage(batch)?.split(separator: "\n").first == "Land 4 groups: b, c, d, e")
        let regression = try await mission.ledger.verifications(of: mission.spec.id)
            .first { $0.verification.kind == .regression && $0.verification.commit == batch }
        #expect(regression?.verification.groups.sorted() == ["b", "c", "d", "e"])
        #expect(regression?.verification.landedGroupsChecked == 1)
        #expect(try await mission.targetIsVerified())
    }

    @Test func aFailingBatchIsBisectedAndOnlyVerifiedCommitsLand() async throws {
        // d passes its own gate but breaks x. Its second attempt is a fixup from the failed merge, which keeps the
        // poison (this agent does not remove it) and fails the same way; the third starts from the head and lands.
        let scenario = Scenario(groups: [
            "x": [LoopDecisionTests.write("x")], "b": [LoopDecisionTests.write("b")],
            "c": [LoopDecisionTests.write("c")],
            "d": [
                LoopDecisionTests.write("d", also: [("poison", "yes\n")]), LoopDecisionTests.write("d"),
                LoopDecisionTests.write("d"),
            ],
            "e": [LoopDecisionTests.write("e")],
        ])
        let (mission, result) = try await run(scenario, waitingFor: ["b", "c", "d", "e"])
        defer { mission.directory.remove() }
        #expect(result.reason == .completed)
        let attempts = try await mission.ledger.attempts(of: mission.spec.id)
        let d = attempts.filter { $0.key.group == "d" }
        #expect(d.map(\.outcome) == [.regression, .regression, .landed])
        #expect(d[1].startCommit != d[0].startCommit && d[2].startCommit != d[1].startCommit, "fixup, then the head")
        #expect(attempts.filter { $0.outcome == .landed }.map(\.key.group).sorted() == ["b", "c", "d", "e", "x"])
        let events = try await mission.ledger.events(of: mission.spec.id, after: 0, limit: 1000)
        let splits = events.filter { $0.kind == .mergeRequeued && $0.message.contains("trying them apart") }
        // The first split is the whole batch (in the order the gates passed).
        let firstSplit = try #require(splits.first?.payload(MissionEvent.MergeRequeued.self))
        #expect(Set(firstSplit.attempts) == ["b#1", "c#1", "d#1", "e#1"])
        #expect(splits.count == 2, "4 → 2 + 2, then the failing pair → 1 + 1")
        // No commit on the target branch ever held the poison, and every one was verified as it stands.
        let head = try #require(try await mission.git.resolveCommit("refs/heads/\(mission.spec.targetBranch)"))
        for commit in try await mission.git.commits(from: mission.spec.baseCommit, to: head) {
            #expect(try await mission.git.fileContents(at: commit, path: "poison") == nil)
        }
        #expect(try await mission.targetIsVerified())
        let failed = try await mission.ledger.verifications(of: mission.spec.id)
            .filter { $0.verification.kind == .regression && !$0.verification.passed }
        #expect(failed.count == 4, "the batch of 4, the pair with d, d alone, and d's fixup")
    }
}
