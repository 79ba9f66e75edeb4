import FlotillaCore
import Foundation

/// `--output json` shapes.
///
/// Separate from the domain types so the domain can change without breaking scripts.
package struct MissionDTO: Codable, Sendable {
    /// The state of a mission the ledger says is running but whose process is gone.
    package static let crashed = "crashed"
    /// Created, and waiting for its turn in a daemon's queue (`serve --max-running`).
    package static let queued = "queued"
    /// Every state a mission may show: the ledger's, and the two a client sees besides.
    package static let states = MissionState.allCases.map(\.rawValue) + [crashed, queued]

    package var id: String
    package var goal: String
    package var state: String
    package var stopReason: String?
    package var breaker: String?
    package var repository: String
    package var baseCommit: String
    package var targetBranch: String
    package var targetHead: String?
    package var verifyCommand: String?
    package var protectedPaths: [String]
    package var agents: Int
    package var backend: String
    package var createdAt: Date
    package var startedAt: Date?
    package var finishedAt: Date?
    package var costUSD: Double
    package var attempts: Int
    package var groupsDone: Int
    package var groupsTotal: Int
    /// Dollars per criterion of the groups that landed.
    package var costPerAcceptedCriterionUSD: Double?
    /// What the breakers allow: the dashboard draws cost and time against them.
    package var limits: LimitsDTO?
    package var groups: [GroupDTO]?
    /// What waits for a human (`--approve`): attempts (`a#2`) whose landing, or `mission` when the finished mission.
    package var awaitingApproval: [String]?
    /// Labels to find it by.
    package var tags: [String]?
    /// The caller's own names and values.
    package var metadata: [String: String]?
    /// Where it came from: `cli`, `api`, `webhook`, `mcp`.
    package var source: String?

    enum CodingKeys: String, CodingKey {
        case id, goal, state, breaker, repository, agents, backend, attempts, groups, limits, tags, metadata, source
        case stopReason = "stop_reason"
        case baseCommit = "base_commit"
        case targetBranch = "target_branch"
        case targetHead = "target_head"
        case verifyCommand = "verify_command"
        case protectedPaths = "protected_paths"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case costUSD = "cost_usd"
        case groupsDone = "groups_done"
        case groupsTotal = "groups_total"
        case costPerAcceptedCriterionUSD = "cost_per_accepted_criterion_usd"
        case awaitingApproval = "awaiting_approval"
    }

    /// The mission as the ledger holds it; `crashed` when it says running but its process is gone.
    package init(_ record: MissionRecord, targetHead: String?, groups: [GroupRecord]?, crashed: Bool = false) {
        let spec = record.spec
        id = spec.id.rawValue
        goal = spec.goal
        state = crashed ? Self.crashed : record.isQueued ? Self.queued : record.state.rawValue
        stopReason = record.stopReason?.rawValue
        breaker = record.breakerDetail
        repository = spec.repository
        baseCommit = spec.baseCommit
        targetBranch = spec.targetBranch
        self.targetHead = targetHead
        verifyCommand = spec.verifyCommand
        protectedPaths = spec.protectedPatterns
        agents = spec.agents
        backend = spec.backend
        createdAt = record.createdAt
        startedAt = record.startedAt
        finishedAt = record.finishedAt
        costUSD = record.spentUSD
        attempts = record.attempts
        groupsDone = record.groupsDone
        groupsTotal = record.groupsTotal
        if let groups {
            let layers = ChecklistLayers.layers(groups.map { ($0.id, $0.dependsOn) })
            self.groups = groups.map { group in
                var dto = GroupDTO(group, layer: layers[group.id] ?? 0)
                // Declared complete by a person: what did not land is waived, not done (the ledger keeps its state).
                if record.stopReason == .forcedComplete && group.status != .done { dto.status = GroupDTO.waived }
                return dto
            }
        } else {
            self.groups = nil
        }
        let accepted = groups?.filter { $0.status == .done }.reduce(0) { $0 + $1.criteria.count } ?? 0
        costPerAcceptedCriterionUSD = accepted > 0 ? record.spentUSD / Double(accepted) : nil
        limits = LimitsDTO(spec.limits)
        tags = spec.options.tags
        metadata = spec.options.metadata
        source = spec.options.source
    }

    /// Whether it is in `state` (when given), carries every one of `tags` and came from `source` (when given).
    package func matches(state: String? = nil, tags: [String] = [], source: String? = nil) -> Bool {
        (state == nil || self.state == state) && Set(tags).isSubset(of: self.tags ?? [])
            && (source == nil || self.source == source)
    }
}

/// A mission's breakers; nil where the mission has none.
package struct LimitsDTO: Codable, Sendable {
    package var maxCostUSD: Double?
    package var maxSeconds: Double?
    package var maxAttempts: Int?
    package var attemptTimeoutSeconds: Double

    enum CodingKeys: String, CodingKey {
        case maxCostUSD = "max_cost_usd"
        case maxSeconds = "max_seconds"
        case maxAttempts = "max_attempts"
        case attemptTimeoutSeconds = "attempt_timeout_seconds"
    }

    package init(_ limits: MissionLimits) {
        maxCostUSD = limits.maxCostUSD
        maxSeconds = limits.maxWallClock?.seconds
        maxAttempts = limits.maxAttempts
        attemptTimeoutSeconds = limits.attemptTimeout.seconds
    }
}

package struct GroupDTO: Codable, Sendable {
    package var id: String
    package var title: String
    package var status: String
    package var dependsOn: [String]
    package var check: String?
    package var criteria: [String]
    package var attempts: Int
    package var costUSD: Double
    package var escalation: String
    package var landedCommit: String?
    package var blockedReason: String?
    /// Dollars per criterion, once the group landed.
    package var costPerCriterionUSD: Double?
    /// Its layer in the checklist's DAG (`ChecklistLayers`), for drawing it.
    package var layer: Int?
    /// Who added it to the running mission (`objective check`); absent for the checklist's own groups.
    package var addedBy: String?
    /// Its typed criteria (`Metric:`, `Event:`, `Predicate:`): last status and figure, best figure, target.
    package var typedCriteria: [CriterionStanding]?

    enum CodingKeys: String, CodingKey {
        case id, title, status, check, criteria, attempts, escalation, layer
        case addedBy = "added_by"
        case typedCriteria = "typed_criteria"
        case costPerCriterionUSD = "cost_per_criterion_usd"
        case dependsOn = "depends_on"
        case costUSD = "cost_usd"
        case landedCommit = "landed_commit"
        case blockedReason = "blocked_reason"
    }

    /// The status shown for a group that had not landed when a person declared its mission complete.
    package static let waived = "waived"

    package init(_ group: GroupRecord, layer: Int? = nil) {
        self.layer = layer
        id = group.id
        title = group.title
        status = group.status.rawValue
        dependsOn = group.dependsOn
        check = group.check
        criteria = group.criteria
        attempts = group.attempts
        costUSD = group.costUSD
        escalation = group.escalation.rawValue
        landedCommit = group.landedCommit
        blockedReason = group.blockedReason
        addedBy = group.addedBy
        costPerCriterionUSD =
            group.status == .done && !group.criteria.isEmpty ? group.costUSD / Double(group.criteria.count) : nil
    }
}

package struct AttemptDTO: Codable, Sendable {
    package var sequence: Int
    package var group: String
    package var number: Int
    package var slot: Int
    package var backend: String
    package var phase: String
    package var outcome: String?
    package var reason: String?
    package var startCommit: String
    package var commit: String?
    package var landedCommit: String?
    package var exitCode: Int?
    package var costUSD: Double
    package var inputTokens: Int
    package var outputTokens: Int
    package var cacheReadTokens: Int
    package var cacheWriteTokens: Int
    package var filesChanged: Int?
    package var insertions: Int?
    package var deletions: Int?
    package var agentSeconds: Double?
    package var gateSeconds: Double?
    package var startedAt: Date
    package var finishedAt: Date?
    package var transcript: String
    package var prompt: String
    /// The sandbox the session and its gate ran in (absent for attempts from before it was recorded).
    package var sandbox: String?
    /// What the test runners did in its gate, as Flotilla saw them ("2 passed (pytest)"); absent when it saw none.
    package var tests: String?
    /// How its gate judged the group's typed criteria; absent when the group has none or no gate ran.
    package var criteriaResults: [CriterionResult]?
    /// The tries of its pipeline's steps, in order; absent when it ran one session.
    package var steps: [AttemptStepDTO]?

    enum CodingKeys: String, CodingKey {
        case sequence, group, number, slot, backend, phase, outcome, reason, commit, insertions, deletions
        case transcript, prompt, sandbox, tests, steps
        case criteriaResults = "criteria_results"
        case startCommit = "start_commit"
        case landedCommit = "landed_commit"
        case exitCode = "exit_code"
        case costUSD = "cost_usd"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cacheReadTokens = "cache_read_tokens"
        case cacheWriteTokens = "cache_write_tokens"
        case filesChanged = "files_changed"
        case agentSeconds = "agent_seconds"
        case gateSeconds = "gate_seconds"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    package init(_ attempt: AttemptRecord) {
        sequence = attempt.sequence
        group = attempt.key.group
        number = attempt.key.number
        slot = attempt.slot
        backend = attempt.backend
        phase = attempt.phase.rawValue
        outcome = attempt.outcome?.rawValue
        reason = attempt.reason
        startCommit = attempt.startCommit
        commit = attempt.commit
        landedCommit = attempt.landedCommit
        exitCode = attempt.exitCode
        costUSD = attempt.usage.costUSD
        inputTokens = attempt.usage.inputTokens
        outputTokens = attempt.usage.outputTokens
        cacheReadTokens = attempt.usage.cacheReadTokens
        cacheWriteTokens = attempt.usage.cacheWriteTokens
        filesChanged = attempt.diff?.files
        insertions = attempt.diff?.insertions
        deletions = attempt.diff?.deletions
        agentSeconds = attempt.agentSeconds
        gateSeconds = attempt.gateSeconds
        startedAt = attempt.startedAt
        finishedAt = attempt.finishedAt
        transcript = attempt.transcriptPath
        prompt = attempt.promptPath
        sandbox = attempt.sandbox
    }
}

package struct HistoryDTO: Codable, Sendable {
    package var mission: String
    package var attempts: [AttemptDTO]
    /// Planner and critic calls (absent from servers older than them).
    package var modelCalls: [ModelCallDTO]?
    /// Notifications and their tries (absent from servers older than them).
    package var notifications: [NotificationDTO]?

    enum CodingKeys: String, CodingKey {
        case mission, attempts, notifications
        case modelCalls = "model_calls"
    }

    package init(
        mission: String,
        attempts: [AttemptDTO],
        modelCalls: [ModelCallDTO],
        notifications: [NotificationDTO] = []
    ) {
        self.mission = mission
        self.attempts = attempts
        self.modelCalls = modelCalls
        self.notifications = notifications
    }
}

/// One planner or critic call.
package struct ModelCallDTO: Codable, Sendable, Equatable {
    package var role: String
    package var group: String?
    package var attempt: Int?
    package var model: String
    package var inputTokens: Int
    package var outputTokens: Int
    package var cacheReadTokens: Int
    package var cacheWriteTokens: Int
    package var costUSD: Double
    package var durationMs: Int64
    package var error: String?
    package var at: Date

    enum CodingKeys: String, CodingKey {
        case role, group, attempt, model, error, at
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cacheReadTokens = "cache_read_tokens"
        case cacheWriteTokens = "cache_write_tokens"
        case costUSD = "cost_usd"
        case durationMs = "duration_ms"
    }

    package init(_ record: ModelCallRecord) {
        let call = record.call
        role = call.role.rawValue
        group = call.attempt?.group
        attempt = call.attempt?.number
        model = call.model
        inputTokens = call.usage.inputTokens
        outputTokens = call.usage.outputTokens
        cacheReadTokens = call.usage.cacheReadTokens
        cacheWriteTokens = call.usage.cacheWriteTokens
        costUSD = call.usage.costUSD
        durationMs = call.duration.milliseconds
        error = call.error
        at = record.at
    }
}

/// The body of every error: `{"error": {"code": …, "message": …, "fields": [{"field": …, "message": …}]}}`.
package struct ErrorDTO: Codable, Sendable, Equatable {
    package struct Body: Codable, Sendable, Equatable {
        package var code: String
        package var message: String
        /// For invalid requests: each problem with the field it is about.
        package var fields: [FieldError]?
        /// For a repeated delivery: the mission the first one started.
        package var missionID: String?

        enum CodingKeys: String, CodingKey {
            case code, message, fields
            case missionID = "mission_id"
        }
    }

    package typealias FieldError = FieldProblem

    package var error: Body

    package init(code: String, message: String, fields: [FieldError]? = nil, missionID: String? = nil) {
        error = Body(code: code, message: message, fields: fields, missionID: missionID)
    }
}

/// One event of a mission, as the API and `--output json` show it.
package struct EventDTO: Codable, Sendable, Equatable {
    package var id: Int64
    package var mission: String
    package var at: Date
    package var kind: String
    package var group: String?
    package var attempt: Int?
    package var message: String
    package var data: [String: JSONValue]

    package init(_ event: MissionEvent) {
        id = event.id
        mission = event.mission.rawValue
        at = event.at
        kind = event.kind.rawValue
        group = event.group
        attempt = event.attempt
        message = event.message
        data = event.data
    }

    /// The event's data as its kind's payload (``MissionEvent/payload(_:)``); nil for another kind.
    package func payload<Payload: EventPayload>(_ type: Payload.Type) -> Payload? {
        guard let kind = EventKind(rawValue: kind), Payload.kinds.contains(kind) else { return nil }
        return try? JSONValue.object(data).decoded(as: type)
    }
}

/// `GET /missions`.
package struct MissionListDTO: Codable, Sendable {
    package var missions: [MissionDTO]

    package init(missions: [MissionDTO]) {
        self.missions = missions
    }
}

/// `GET /missions/{id}/events`.
package struct EventListDTO: Codable, Sendable {
    package var events: [EventDTO]

    package init(events: [EventDTO]) {
        self.events = events
    }
}

/// `GET /missions/{id}/checklist`: the checklist as Markdown and as its JSON form.
package struct ChecklistDTO: Codable, Sendable {
    package var markdown: String
    package var checklist: JSONValue

    package init(_ checklist: Checklist) {
        markdown = ChecklistRenderer.render(checklist)
        self.checklist = (try? JSONDecoder().decode(JSONValue.self, from: ChecklistJSON.encode(checklist))) ?? .null
    }
}

/// The body of `POST /missions/{id}/approve`.
package struct ApprovalRequestDTO: Codable, Sendable {
    /// Groups to release; empty means every blocked group.
    package var groups: [String]

    package init(groups: [String]) {
        self.groups = groups
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        groups = try container.decodeIfPresent([String].self, forKey: .groups) ?? []
    }

    enum CodingKeys: String, CodingKey {
        case groups
    }
}

/// The answer to an approval: the groups released, and the mission as it now is.
package struct ApprovalDTO: Codable, Sendable {
    package var released: [String]
    package var mission: MissionDTO

    package init(released: [String], mission: MissionDTO) {
        self.released = released
        self.mission = mission
    }
}

/// One attempt with what it left: its prompt, transcript, diff, gate output and the feedback the next attempt got.
///
/// Long texts keep their end, cut at `AttemptDetailDTO.textLimit` bytes.
package struct AttemptDetailDTO: Codable, Sendable {
    package static let textLimit = 256 * 1024

    package var mission: String
    package var attempt: AttemptDTO
    package var prompt: String?
    package var transcript: String?
    package var diff: String?
    package var gateOutput: String?
    /// What the next attempt was told: the failure, and the critic's review when there was one.
    package var feedback: String?

    enum CodingKeys: String, CodingKey {
        case mission, attempt, prompt, transcript, diff, feedback
        case gateOutput = "gate_output"
    }

    package init(
        mission: String,
        attempt: AttemptDTO,
        prompt: String?,
        transcript: String?,
        diff: String?,
        gateOutput: String?,
        feedback: String?
    ) {
        self.mission = mission
        self.attempt = attempt
        self.prompt = prompt
        self.transcript = transcript
        self.diff = diff
        self.gateOutput = gateOutput
        self.feedback = feedback
    }
}
