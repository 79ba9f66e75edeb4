import FlotillaCore
import Foundation

extension MissionRunner {
    /// `flotilla check`: the mission's verify and its probes on `commit` (the target's head when nil), for `groups`
    /// (every group, as the final verify, when empty), judged as a landing is; nothing of the mission changes but one
    /// `criteria.checked` event.
    ///
    /// It runs in a checkout of its own, so it may run beside the mission's loop, on a finished mission too.
    package func check(_ id: MissionID, groups: [String], commit: String?) async throws -> Verification {
        guard let record = try await ports.ledger.mission(id) else {
            throw FlotillaError.notFound("no mission \(id)")
        }
        let spec = record.spec
        for group in groups where spec.checklist.group(group) == nil {
            throw FlotillaError.invalid(
                "--group \(group): mission \(id) has no such group (it has \(spec.checklist.groupIDs.joined(separator: ", ")))"
            )
        }
        let target = commit ?? "refs/heads/\(spec.targetBranch)"
        guard let resolved = try await ports.git.resolveCommit(target) else {
            throw FlotillaError.invalid("--commit \(target) does not name a commit of \(spec.repository)")
        }
        var gate = try await gate(for: spec)
        if let baseline = try await testBaseline(spec, gate: gate) { gate = gate.judging(against: baseline) }
        if let figures = try await probeBaselines(spec, gate: gate) { gate.configuration.baselines = figures }
        let directory = layout.checkDirectory(id, String(UUID().uuidString.prefix(8)).lowercased())
        let checkout = (directory as NSString).appendingPathComponent("tree")
        let index = (directory as NSString).appendingPathComponent("index")
        defer { try? ports.git.removeCheckout(directory, index: index) }
        try await control.checkout(resolved, into: checkout, mission: id, judging: true, index: index)
        let verification = try await gate.verify(
            kind: groups.isEmpty ? .final : .regression,
            attempt: nil,
            commit: resolved,
            in: checkout,
            groups: groups,
            logPath: layout.checkLog(id)
        )
        try await control.record(.criteriaChecked(verification), mission: id)
        return verification
    }
}
