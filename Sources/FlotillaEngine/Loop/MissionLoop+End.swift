import FlotillaCore
import Foundation

/// The end of a run: the summary people read.
extension MissionLoop {
    func summarize(_ reason: StopReason, elapsed: Duration) async throws -> String {
        let attempts = try await context.ledger.attempts(of: spec.id)
        let progress = capabilities.scheduling.progress
        let failed = attempts.filter { $0.outcome != nil && $0.outcome != .landed }
        var parts = [
            "\(progress.count(.done))/\(progress.groups.count) groups landed",
            "\(attempts.count) attempt\(attempts.count == 1 ? "" : "s")",
        ]
        if !failed.isEmpty {
            let counts = Dictionary(grouping: failed, by: { $0.outcome?.rawValue ?? "?" }).mapValues(\.count)
            parts.append(
                "\(failed.count) not landed ("
                    + counts.keys.sorted().map { "\(counts[$0] ?? 0) \($0)" }.joined(separator: ", ") + ")"
            )
        }
        parts.append(formatUSD(capabilities.spending.spentUSD))
        parts.append(elapsed.shortDescription)
        let blocked = progress.groups.filter { $0.status == .blocked }.map(\.id)
        if !blocked.isEmpty { parts.append("blocked: \(blocked.joined(separator: ", "))") }
        if let fatal { parts.append("error: \(fatal)") }
        if let rejection = capabilities.ending.rejection { parts.append(rejection) }
        if let tripped = capabilities.scheduling.tripped { parts.append(tripped.detail) }
        return parts.joined(separator: ", ")
    }
}

/// Removes a mission's checkouts and attempt branches once it ends; the target branch stays.
struct MissionCleanUp {
    let spec: MissionSpec
    let context: EngineContext
    let processTable: (any ProcessTable)?

    func run() async {
        // Processes first: nothing may still be writing into the checkouts being removed.
        if let processTable {
            _ = await processTable.reap(recordedIn: context.layout.processesDirectory(spec.id), grace: .seconds(2))
            _ = await processTable.end(carrying: "FLOTILLA_MISSION=\(spec.id)", grace: .seconds(2))
        }
        _ = await MissionCheckouts(git: context.git, layout: context.layout).removeAll(spec.id)
        guard spec.options.keepBranches != true else { return }
        let attempts = (try? await context.ledger.attempts(of: spec.id)) ?? []
        try? await context.git.deleteBranches(attempts.map(\.branch))
    }
}
