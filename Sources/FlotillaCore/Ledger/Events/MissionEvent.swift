import Foundation

/// The names of events; stable, as scripts and the HTTP API read them.
package enum EventKind: String, Sendable, Codable, CaseIterable {
    case missionCreated = "mission.created"
    case missionStarted = "mission.started"
    case missionRecovered = "mission.recovered"
    case groupsApproved = "groups.approved"
    case landingVerified = "merge.verified"
    case attemptStarted = "attempt.started"
    case agentFinished = "agent.finished"
    case attemptCommitted = "attempt.committed"
    case gatePassed = "gate.passed"
    case gateFailed = "gate.failed"
    case mergeStarted = "merge.started"
    case attemptLanded = "attempt.landed"
    case mergeRequeued = "merge.requeued"
    case attemptFailed = "attempt.failed"
    case breakerTripped = "breaker.tripped"
    case finalVerify = "verify.final"
    case missionFinished = "mission.finished"
    case modelCalled = "model.called"
    case refsRestored = "refs.restored"
    case testEditsReverted = "attempt.tests_reverted"
    case newTestsDeferred = "attempt.new_tests_deferred"
    case toolSettingsRestored = "attempt.tool_settings_restored"
    case refsMoved = "refs.moved"
    case missionCrashed = "mission.crashed"
    case reviewScored = "review.scored"
    case approvalRequested = "approval.requested"
    case approvalDecided = "approval.decided"
    case branchPushed = "branch.pushed"
    case pushRefused = "push.refused"
    case landedOnto = "mission.landed"
    case landRefused = "land.refused"
    case notificationDelivered = "notification.delivered"
    case notificationFailed = "notification.failed"
    case objectiveChecked = "objective.checked"
    case groupsAdded = "groups.added"
    case speculationRanked = "speculation.ranked"
    case testsBaseline = "tests.baseline"
    case probesBaseline = "probes.baseline"
    case criteriaChecked = "criteria.checked"
    case missionStepped = "mission.stepped"
    case missionQueued = "mission.queued"
    case missionDequeued = "mission.dequeued"
    case stepStarted = "step.started"
    case stepRetry = "step.retry"
    case stepLoop = "step.loop"
    case stepFinished = "step.finished"
    case stepReadOnlyDiscarded = "step.read_only_discarded"
    case stepScopeTakenBack = "step.scope_taken_back"
}

/// An entry of a mission's event stream (ledger `events` table, `events.jsonl`, live views).
package struct MissionEvent: Sendable, Equatable, Codable {
    /// Position in the ledger, increasing; 0 until stored.
    package var id: Int64
    package var mission: MissionID
    package var at: Date
    package var kind: EventKind
    package var group: String?
    package var attempt: Int?
    /// A sentence for people.
    package var message: String
    package var data: [String: JSONValue]

    package init(
        id: Int64 = 0,
        mission: MissionID,
        at: Date,
        kind: EventKind,
        group: String? = nil,
        attempt: Int? = nil,
        message: String,
        data: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.mission = mission
        self.at = at
        self.kind = kind
        self.group = group
        self.attempt = attempt
        self.message = message
        self.data = data
    }
}
