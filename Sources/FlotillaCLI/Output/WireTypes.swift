import FlotillaCore
import Foundation

/// `--output json` shapes.
///
/// Separate from the domain types so the domain can change without breaking scripts.
struct MissionDTO: Codable, Sendable {
    var id: String
    var goal: String
    var state: String
    var stopReason: String?
    var breaker: String?
    var repository: String
    var baseCommit: String
    var targetBranch: String
    var targetHead: String?
    var verifyCommand: String?
    var protectedPaths: [String]
    var agents: Int
    var backend: String
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var costUSD: Double
    var attempts: Int
    var groupsDone: Int
    var groupsTotal: Int
    var groups: [GroupDTO]?

    enum CodingKeys: String, CodingKey {
        case id, goal, state, breaker, repository, agents, backend, attempts, groups
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
    }

    init(_ record: MissionRecord, targetHead: String?, groups: [GroupRecord]?) {
        let spec = record.spec
        id = spec.id.rawValue
        goal = spec.goal
        state = record.state.rawValue
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
        self.groups = groups.map { $0.map(GroupDTO.init) }
    }
}

struct GroupDTO: Codable, Sendable {
    var id: String
    var title: String
    var status: String
    var dependsOn: [String]
    var check: String?
    var criteria: [String]
    var attempts: Int
    var costUSD: Double
    var escalation: String
    var landedCommit: String?
    var blockedReason: String?

    enum CodingKeys: String, CodingKey {
        case id, title, status, check, criteria, attempts, escalation
        case dependsOn = "depends_on"
        case costUSD = "cost_usd"
        case landedCommit = "landed_commit"
        case blockedReason = "blocked_reason"
    }

    init(_ group: GroupRecord) {
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
    }
}

struct AttemptDTO: Codable, Sendable {
    var sequence: Int
    var group: String
    var number: Int
    var slot: Int
    var backend: String
    var phase: String
    var outcome: String?
    var reason: String?
    var startCommit: String
    var commit: String?
    var landedCommit: String?
    var exitCode: Int?
    var costUSD: Double
    var inputTokens: Int
    var outputTokens: Int
    var cacheReadTokens: Int
    var cacheWriteTokens: Int
    var filesChanged: Int?
    var insertions: Int?
    var deletions: Int?
    var agentSeconds: Double?
    var gateSeconds: Double?
    var startedAt: Date
    var finishedAt: Date?
    var transcript: String
    var prompt: String

    enum CodingKeys: String, CodingKey {
        case sequence, group, number, slot, backend, phase, outcome, reason, commit, insertions, deletions
        case transcript, prompt
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

    init(_ attempt: AttemptRecord) {
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
    }
}

struct HistoryDTO: Codable, Sendable {
    var mission: String
    var attempts: [AttemptDTO]
}

struct ErrorDTO: Codable, Sendable {
    struct Body: Codable, Sendable {
        var code: String
        var message: String
    }

    var error: Body
}
