import FlotillaCore
import Foundation
import GRDB

/// A `missions` row, with the sums the mission query adds (spent, attempts, groups).
struct MissionRow: LedgerRow {
    var id: String
    var goal: String
    var repository: String
    var baseCommit: String
    var targetBranch: String
    var verifyCommand: String?
    var protectedPatterns: String
    var agents: Int
    var backend: String
    var model: String?
    var maxCostUsd: Double?
    var maxWallClockS: Double?
    var maxAttempts: Int?
    var attemptTimeoutS: Double
    var stallThreshold: Int
    var checklistJson: String
    var checklistSource: String
    var optionsJson: String
    var state: String
    var stopReason: String?
    var breakerDetail: String?
    var createdAt: Double
    var startedAt: Double?
    var finishedAt: Double?
    var runnerPid: Int32?
    var runnerStartTicks: Int64?
    var runningSeconds: Double
    var spentUsd: Double
    var attemptCount: Int
    var groupsDone: Int
    var groupsTotal: Int

    var name: String { "missions \(id)" }

    /// The query every mission read uses: the row with its sums, computed by SQLite.
    static let query = """
        SELECT m.*,
            (SELECT coalesce(sum(cost_usd), 0) FROM attempts a WHERE a.mission_id = m.id)
                + (SELECT coalesce(sum(cost_usd), 0) FROM model_calls c
                    WHERE c.mission_id = m.id AND c.role = 'planner') AS spent_usd,
            (SELECT count(*) FROM attempts a WHERE a.mission_id = m.id) AS attempt_count,
            (SELECT count(*) FROM groups g WHERE g.mission_id = m.id AND g.status = 'done') AS groups_done,
            (SELECT count(*) FROM groups g WHERE g.mission_id = m.id) AS groups_total
        FROM missions m
        """

    func record() throws -> MissionRecord {
        guard let missionID = MissionID(id) else { throw LedgerError.invalid("\(name): not a mission id") }
        let checklist: Checklist
        do {
            checklist = try ChecklistJSON.decode(Data(checklistJson.utf8), file: "ledger")
        } catch {
            throw LedgerError.invalid("\(name): checklist_json: \(error)")
        }
        let spec = MissionSpec(
            id: missionID,
            goal: goal,
            repository: repository,
            baseCommit: baseCommit,
            targetBranch: targetBranch,
            verifyCommand: verifyCommand,
            protectedPatterns: try decoded(protectedPatterns, "protected_patterns", as: [String].self),
            agents: agents,
            backend: backend,
            model: model,
            limits: MissionLimits(
                maxCostUSD: maxCostUsd,
                maxWallClock: maxWallClockS.map { .seconds(bounded: $0) },
                maxAttempts: maxAttempts,
                attemptTimeout: .seconds(bounded: attemptTimeoutS),
                stallThreshold: stallThreshold
            ),
            checklist: checklist,
            checklistSource: checklistSource,
            options: try MissionFields.stored(optionsJson, row: name)
        )
        return MissionRecord(
            spec: spec,
            state: try known(state, "state"),
            stopReason: try stopReason.map { try known($0, "stop_reason") },
            breakerDetail: breakerDetail,
            createdAt: Date(ledgerSeconds: createdAt),
            startedAt: startedAt.map(Date.init(ledgerSeconds:)),
            finishedAt: finishedAt.map(Date.init(ledgerSeconds:)),
            spentUSD: spentUsd,
            attempts: attemptCount,
            groupsDone: groupsDone,
            groupsTotal: groupsTotal,
            runner: runnerPid.flatMap { pid in
                runnerStartTicks.map { ProcessIdentity(pid: pid, startTicks: UInt64(bitPattern: $0)) }
            },
            runningSeconds: runningSeconds
        )
    }
}

extension MissionFields {
    /// Field names missions stored before the fields had one contract.
    private static let renamedFields = [
        "scenario_path": "scenario", "pass_environment": "pass_env", "critic_api": "critic",
        "keep_attempt_branches": "keep_branches",
    ]

    /// A mission's stored fields (`options_json`), as any version of Flotilla wrote them.
    package static func stored(_ text: String, row: String = "missions") throws -> MissionFields {
        do {
            var value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            if case .object(var object) = value {
                for (old, new) in renamedFields {
                    if let moved = object.removeValue(forKey: old) { object[new] = moved }
                }
                value = .object(object)
            }
            return try JSONDecoder().decode(MissionFields.self, from: JSONEncoder().encode(value))
        } catch {
            throw LedgerError.invalid("\(row): options_json: \(error)")
        }
    }
}
