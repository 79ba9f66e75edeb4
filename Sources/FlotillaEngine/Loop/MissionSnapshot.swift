import FlotillaCore
import Foundation

/// What a run starts from, read from the ledger once: each capability restores its state from it.
///
/// After a crash or a stop, attempts whose gate passed wait to land again (recovery kept them queued), or for the
/// human they were waiting for; a best-of-N round cut short may have left several passing candidates of one group,
/// ranked here as the round would have ranked them.
struct MissionSnapshot: Sendable {
    let spec: MissionSpec
    let layout: MissionLayout
    /// How sessions are confined this run.
    let sandbox: SandboxSettings
    let groups: [GroupRecord]
    let attempts: [AttemptRecord]
    /// The mission's own model calls (planning, objective checks); an attempt's are in its cost.
    let missionCalls: [ModelCallRecord]
    let approvals: [ApprovalRecord]
    /// Candidates whose gate passed that go on: queued, or waiting for a human.
    let queued: [MergeCandidate]
    /// Rounds a crash cut short with several passing candidates, best first.
    let cutShortRounds: [[SpeculationCandidate]]
    /// Where Flotilla's last landing left the target branch, and its tree.
    let targetHead: String
    let targetTree: String
    /// The commit of the last push that went through (`--push`).
    let lastPushed: String?
    /// Whether an objective check is configured (`--objective-check`).
    let objectiveCheck: Bool
    /// `flotilla step`'s allowance, in attempts started in all.
    let pauseAfterAttempts: Int?
    /// The attempts' gates, oldest first, when the checklist has typed criteria (their figures are progress).
    let gates: [Verification]

    static func read(
        _ spec: MissionSpec,
        context: EngineContext,
        sandbox: SandboxSettings
    ) async throws -> MissionSnapshot {
        let ledger = context.ledger
        let attempts = try await ledger.attempts(of: spec.id)
        let queuedRecords = attempts.filter { $0.outcome == nil && $0.phase == .queued }
        let cutShort = try await rankQueued(queuedRecords, mission: spec.id, ledger: ledger)
        let outranked = Set(cutShort.flatMap { $0.dropFirst().map(\.key) })
        let landed = attempts.filter { $0.outcome == .landed }
        let head =
            landed.max { ($0.finishedAt ?? .distantPast) < ($1.finishedAt ?? .distantPast) }?.landedCommit
            ?? spec.baseCommit
        return MissionSnapshot(
            spec: spec,
            layout: context.layout,
            sandbox: sandbox,
            groups: try await ledger.groups(of: spec.id),
            attempts: attempts,
            missionCalls: try await ledger.modelCalls(of: spec.id).filter {
                $0.call.role == .planner || $0.call.role == .objective
            },
            approvals: try await ledger.approvals(of: spec.id),
            queued: queuedRecords.filter { !outranked.contains($0.key) }.map {
                MergeCandidate(
                    key: $0.key,
                    commit: $0.commit ?? $0.startCommit,
                    criteria: $0.criteria,
                    startCommit: $0.startCommit
                )
            },
            cutShortRounds: cutShort,
            targetHead: head,
            targetTree: try await context.git.tree(of: head),
            lastPushed: spec.options.push == nil ? nil : try await lastPush(of: spec.id, ledger: ledger),
            objectiveCheck: context.objective != nil,
            pauseAfterAttempts: try await ledger.mission(spec.id)?.pauseAfterAttempts,
            gates: spec.checklist.hasTypedCriteria
                ? try await ledger.verifications(of: spec.id).map(\.verification).filter { $0.kind == .gate } : []
        )
    }

    /// Ranks the passing candidates a crash left queued, by group, best first; only groups with more than one.
    ///
    /// A held candidate is queued in the ledger as soon as its gate passed, so a round cut short between two gates
    /// leaves several. Their review scores are read back from the `review.scored` events.
    private static func rankQueued(
        _ queued: [AttemptRecord],
        mission: MissionID,
        ledger: any MissionLedger
    ) async throws -> [[SpeculationCandidate]] {
        let rounds = Dictionary(grouping: queued, by: \.key.group).values.filter { $0.count > 1 }
        guard !rounds.isEmpty else { return [] }
        var scores: [AttemptKey: Int] = [:]
        try await scan(mission, ledger) { event in
            guard let group = event.group, let number = event.attempt,
                let score = event.payload(MissionEvent.ReviewScored.self)?.score
            else { return }
            scores[AttemptKey(group: group, number: number)] = score
        }
        return rounds.map { attempts in
            SpeculationCandidate.ranked(
                attempts.map { attempt in
                    SpeculationCandidate(
                        key: attempt.key,
                        passed: true,
                        criteria: attempt.criteria,
                        reviewScore: scores[attempt.key],
                        diffLines: attempt.diff.map { $0.insertions + $0.deletions } ?? 0,
                        costUSD: attempt.usage.costUSD
                    )
                }
            )
        }
        .sorted { $0[0].key.group < $1[0].key.group }
    }

    /// Where a previous run left the remote: the commit of the last push that went through.
    private static func lastPush(of mission: MissionID, ledger: any MissionLedger) async throws -> String? {
        var last: String?
        try await scan(mission, ledger) { event in
            if event.kind == .branchPushed, let push = event.payload(MissionEvent.Pushed.self) { last = push.commit }
        }
        return last
    }

    /// Hands every event of the mission to `body`, oldest first, a page at a time.
    private static func scan(
        _ mission: MissionID,
        _ ledger: any MissionLedger,
        _ body: (MissionEvent) -> Void
    ) async throws {
        var after: Int64 = 0
        while true {
            let page = try await ledger.events(of: mission, after: after, limit: 1000)
            for event in page { body(event) }
            guard let last = page.last?.id, page.count == 1000 else { return }
            after = last
        }
    }
}

extension Capabilities {
    /// Every capability as the snapshot leaves it.
    init(_ snapshot: MissionSnapshot) {
        self.init(
            scheduling: Scheduling(snapshot),
            spending: Spending(snapshot),
            landing: LandingLine(snapshot),
            approvals: ApprovalDesk(snapshot),
            speculation: SpeculationRounds(cutShort: snapshot.cutShortRounds),
            fixups: FixupPlanner(enabled: snapshot.spec.options.fixups != false),
            rateLimits: RateLimitGate(backoff: snapshot.spec.options.rateLimitBackoff),
            publisher: Publisher(snapshot),
            refWatch: RefWatch(),
            ending: Ending(snapshot)
        )
    }
}
