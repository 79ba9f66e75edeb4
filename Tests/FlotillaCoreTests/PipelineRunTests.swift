import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("A pipeline's run: which step next, its loop and try, and how the attempt ends", .tags(.small))
struct PipelineRunTests {
    static func pipeline(_ steps: [PipelineStep]) -> Pipeline { Pipeline(name: "p", steps: steps) }

    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)

    /// What the runner would do: the step, its number, loop and try (the gate as `gate`).
    static func next(_ run: PipelineRun) -> String {
        switch run.next() {
        case .run(let step, let number, let loop, let attempt, _, _): "\(number):\(step.id).\(loop)#\(attempt)"
        case .gate(let number): "\(number):gate"
        case .ended(let outcome): "ended \(outcome)"
        }
    }

    static func result(
        _ run: PipelineRun,
        _ status: PipelineStepRecord.Status,
        reason: String? = nil,
        notes: String? = nil,
        retryable: Bool = true,
        changed: Bool = false
    ) -> PipelineRun.StepResult {
        guard case .run(let step, let number, let loop, let attempt, _, _) = run.next() else {
            preconditionFailure("no step to finish")
        }
        return PipelineRun.StepResult(
            status: status,
            reason: reason,
            notes: notes,
            retryable: retryable,
            record: PipelineStepRecord(
                step: step.id,
                number: number,
                loop: loop,
                attempt: attempt,
                status: status,
                reason: reason,
                changeStatus: changed ? .changed : .noChanges,
                backend: "simulate",
                startedAt: epoch,
                finishedAt: epoch
            )
        )
    }

    @Test func reviewSendsImplementBackWithItsNotesUntilItApproves() {
        var run = PipelineRun(
            pipeline: Self.pipeline([
                PipelineStep(id: "plan", mode: .readOnly, outputs: ["plan.md"]),
                PipelineStep(id: "implement"),
                PipelineStep(id: "review", mode: .readOnly, verdict: "review.json", onFail: .goto("implement")),
            ])
        )
        var seen: [String] = []
        func step(_ status: PipelineStepRecord.Status, notes: String? = nil) {
            seen.append(Self.next(run))
            run.finish(
                Self.result(run, status, reason: status == .success ? nil : "changes", notes: notes, retryable: false)
            )
        }
        step(.success)
        step(.success)
        step(.failed, notes: "handle the empty input")
        guard case .run(_, _, _, _, _, let notes) = run.next() else {
            Issue.record("implement should run again")
            return
        }
        #expect(notes == "handle the empty input")
        step(.success)
        step(.success)
        #expect(seen == ["1:plan.0#1", "2:implement.0#1", "3:review.0#1", "2:implement.1#1", "3:review.1#1"])
        #expect(run.next() == .ended(.completed))
        #expect(
            run.records.map { PipelineRun.folder(number: $0.number, step: $0.step, loop: $0.loop) } == [
                "01_plan", "02_implement", "03_review", "02_implement.1", "03_review.1",
            ]
        )
        #expect(run.needsFinalGate)
    }

    @Test func goingBackMoreThanMaxLoopsEndsTheAttemptWithItsReason() {
        var run = PipelineRun(
            pipeline: Self.pipeline([
                PipelineStep(id: "implement"),
                PipelineStep(id: "review", mode: .readOnly, onFail: .goto("implement"), maxLoops: 1),
            ])
        )
        run.finish(Self.result(run, .success))
        run.finish(Self.result(run, .failed, reason: "changes: no tests", retryable: false))
        #expect(Self.next(run) == "1:implement.1#1")
        run.finish(Self.result(run, .success))
        run.finish(Self.result(run, .failed, reason: "changes: still no tests", retryable: false))
        #expect(
            run.next()
                == .ended(
                    .failed(
                        reason:
                            "step_loop_limit:review: sent back to implement 1 time and still failed: changes: still no tests"
                    )
                )
        )
    }

    @Test func aFailingTryIsRetriedAfterABackoffThenItsPolicyApplies() {
        var run = PipelineRun(pipeline: Self.pipeline([PipelineStep(id: "plan", outputs: ["plan.md"], retries: 2)]))
        run.finish(Self.result(run, .failed, reason: "missing_output:plan.md"))
        guard case .run(_, _, _, 2, let wait, _) = run.next() else {
            Issue.record("the second try should come next")
            return
        }
        #expect(wait == .seconds(2))
        run.finish(Self.result(run, .timeout, reason: "timeout"))
        guard case .run(_, _, _, 3, let third, _) = run.next() else {
            Issue.record("the third try should come next")
            return
        }
        #expect(third == .seconds(4))
        run.finish(Self.result(run, .failed, reason: "missing_output:plan.md"))
        #expect(run.next() == .ended(.failed(reason: "step_failed:plan: missing_output:plan.md")))
        #expect(run.records.map(\.attempt) == [1, 2, 3])
    }

    @Test func continueGoesOnAndHumanWaits() {
        var run = PipelineRun(
            pipeline: Self.pipeline([
                PipelineStep(id: "docs", onFail: .proceed),
                PipelineStep(id: "implement", outputs: ["notes.md"], onFail: .human),
            ])
        )
        run.finish(Self.result(run, .failed, reason: "crashed"))
        #expect(Self.next(run) == "2:implement.0#1")
        run.finish(Self.result(run, .failed, reason: "missing_output:notes.md"))
        #expect(run.next() == .ended(.waitingForHuman(step: "implement", reason: "missing_output:notes.md")))
    }

    @Test func theGateStepDecidesAndRunsAgainOnlyIfAStepWroteAfterIt() {
        let steps = [PipelineStep(id: "implement"), .gate, PipelineStep(id: "docs")]
        var run = PipelineRun(pipeline: Self.pipeline(steps))
        run.finish(Self.result(run, .success, changed: true))
        #expect(Self.next(run) == "2:gate")
        run.gateFinished(passed: true)
        run.finish(Self.result(run, .success, changed: false))
        #expect(run.next() == .ended(.completed))
        #expect(!run.needsFinalGate)

        var wrote = PipelineRun(pipeline: Self.pipeline(steps))
        wrote.finish(Self.result(wrote, .success, changed: true))
        wrote.gateFinished(passed: true)
        wrote.finish(Self.result(wrote, .success, changed: true))
        #expect(wrote.needsFinalGate)

        var failed = PipelineRun(pipeline: Self.pipeline(steps))
        failed.finish(Self.result(failed, .success, changed: true))
        failed.gateFinished(passed: false)
        #expect(failed.next() == .ended(.failed(reason: "the gate step failed")))
    }

    @Test func aRunGoesOnFromItsJSONWithoutRunningFinishedStepsAgain() throws {
        var run = PipelineRun(pipeline: Self.pipeline([PipelineStep(id: "plan"), PipelineStep(id: "implement")]))
        run.finish(Self.result(run, .success))
        let restored = try JSONDecoder().decode(PipelineRun.self, from: JSONEncoder().encode(run))
        #expect(restored == run)
        #expect(Self.next(restored) == "2:implement.0#1")
        let record = try #require(run.records.first)
        let fields = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)) as? [String: Any]
        )
        #expect(
            Set(fields.keys).isSuperset(of: [
                "step", "loop", "try", "status", "change_status", "backend", "cost_usd", "input_tokens",
                "output_tokens", "duration_ms", "started_at", "finished_at", "outputs",
            ])
        )
    }
}
