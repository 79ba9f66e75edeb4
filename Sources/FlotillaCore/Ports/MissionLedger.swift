import Foundation

/// The durable record of missions.
///
/// Every state change is applied with its event in one transaction.
package protocol MissionLedger: Sendable {
    /// Applies `change` and stores its event; returns the stored event.
    @discardableResult
    func record(_ change: LedgerChange, mission: MissionID, at: Date) async throws -> MissionEvent
    func mission(_ id: MissionID) async throws -> MissionRecord?
    /// Missions, newest first; at most `limit` of them when given.
    func missions(limit: Int?) async throws -> [MissionRecord]
    func groups(of mission: MissionID) async throws -> [GroupRecord]
    func attempts(of mission: MissionID) async throws -> [AttemptRecord]
    /// Planner and critic calls, oldest first.
    func modelCalls(of mission: MissionID) async throws -> [ModelCallRecord]
    func verifications(of mission: MissionID) async throws -> [VerificationRecord]
    func merges(of mission: MissionID) async throws -> [MergeRecord]
    /// Landings (and finished missions) that asked a human, with the answers so far.
    func approvals(of mission: MissionID) async throws -> [ApprovalRecord]
    /// Dollars the ledger's missions (but `excluding`) spent since `since`: attempts that ended then (with the models
    /// they consulted) and the missions' own model calls.
    func spentSince(_ since: Date, excluding: MissionID?) async throws -> Double
    /// Events with an id greater than `afterID`, oldest first.
    func events(of mission: MissionID, after afterID: Int64, limit: Int) async throws -> [MissionEvent]
}
