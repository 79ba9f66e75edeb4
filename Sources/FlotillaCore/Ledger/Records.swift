import Foundation

/// Identifies one attempt: the `number`th attempt on `group` (1 for the first).
package struct AttemptKey: Hashable, Sendable, Codable, CustomStringConvertible {
    package var group: String
    package var number: Int

    package init(group: String, number: Int) {
        self.group = group
        self.number = number
    }

    /// `group#2`, as shown to people.
    package var description: String { "\(group)#\(number)" }

    /// `group-2`, as used in file and branch names.
    package var slug: String { "\(group)-\(number)" }
}

/// What a mission is asked to do; fixed when it is created.
package struct MissionSpec: Sendable, Equatable, Codable {
    package var id: MissionID
    package var goal: String
    package var repository: String
    package var baseCommit: String
    package var targetBranch: String
    /// The trusted verify command, fixed at creation; agents never see or change this copy.
    package var verifyCommand: String?
    package var protectedPatterns: [String]
    package var agents: Int
    package var backend: String
    package var model: String?
    package var limits: MissionLimits
    package var checklist: Checklist
    /// Where the checklist came from (a file path), for messages.
    package var checklistSource: String
    /// How it runs: backend settings and options that `resume` needs again.
    package var options: MissionFields

    package init(
        id: MissionID,
        goal: String,
        repository: String,
        baseCommit: String,
        targetBranch: String,
        verifyCommand: String?,
        protectedPatterns: [String],
        agents: Int,
        backend: String,
        model: String?,
        limits: MissionLimits,
        checklist: Checklist,
        checklistSource: String,
        options: MissionFields = MissionFields()
    ) {
        self.id = id
        self.goal = goal
        self.repository = repository
        self.baseCommit = baseCommit
        self.targetBranch = targetBranch
        self.verifyCommand = verifyCommand
        self.protectedPatterns = protectedPatterns
        self.agents = agents
        self.backend = backend
        self.model = model
        self.limits = limits
        self.checklist = checklist
        self.checklistSource = checklistSource
        self.options = options
    }
}

/// A mission as the ledger holds it.
package struct MissionRecord: Sendable, Equatable {
    package var spec: MissionSpec
    package var state: MissionState
    package var stopReason: StopReason?
    package var breakerDetail: String?
    package var createdAt: Date
    package var startedAt: Date?
    package var finishedAt: Date?
    package var spentUSD: Double
    package var attempts: Int
    package var groupsDone: Int
    package var groupsTotal: Int
    /// The process running the mission (or that ran it last), to tell a live mission from a crashed one.
    package var runner: ProcessIdentity?
    /// Time spent running, over all runs so far; time spent stopped or crashed does not count.
    package var runningSeconds: Double

    package init(
        spec: MissionSpec,
        state: MissionState,
        stopReason: StopReason?,
        breakerDetail: String?,
        createdAt: Date,
        startedAt: Date?,
        finishedAt: Date?,
        spentUSD: Double,
        attempts: Int,
        groupsDone: Int,
        groupsTotal: Int,
        runner: ProcessIdentity? = nil,
        runningSeconds: Double = 0
    ) {
        self.spec = spec
        self.state = state
        self.stopReason = stopReason
        self.breakerDetail = breakerDetail
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.spentUSD = spentUSD
        self.attempts = attempts
        self.groupsDone = groupsDone
        self.groupsTotal = groupsTotal
        self.runner = runner
        self.runningSeconds = runningSeconds
    }
}

/// A group as the ledger holds it.
package struct GroupRecord: Sendable, Equatable {
    package var id: String
    package var position: Int
    package var title: String
    package var dependsOn: [String]
    package var check: String?
    package var criteria: [String]
    package var status: GroupStatus
    package var attempts: Int
    package var stalledAttempts: Int
    package var escalation: Escalation
    package var bestCriteriaPassed: Int?
    package var landedCommit: String?
    package var blockedReason: String?
    package var costUSD: Double

    package init(
        id: String,
        position: Int,
        title: String,
        dependsOn: [String],
        check: String?,
        criteria: [String],
        status: GroupStatus,
        attempts: Int,
        stalledAttempts: Int,
        escalation: Escalation,
        bestCriteriaPassed: Int?,
        landedCommit: String?,
        blockedReason: String?,
        costUSD: Double
    ) {
        self.id = id
        self.position = position
        self.title = title
        self.dependsOn = dependsOn
        self.check = check
        self.criteria = criteria
        self.status = status
        self.attempts = attempts
        self.stalledAttempts = stalledAttempts
        self.escalation = escalation
        self.bestCriteriaPassed = bestCriteriaPassed
        self.landedCommit = landedCommit
        self.blockedReason = blockedReason
        self.costUSD = costUSD
    }

    package var progress: GroupProgress {
        GroupProgress(
            id: id,
            dependsOn: dependsOn,
            status: status,
            attempts: attempts,
            stalledAttempts: stalledAttempts,
            escalation: escalation,
            bestCriteriaPassed: bestCriteriaPassed
        )
    }
}

/// Token counts and money of one agent run (or LLM call).
package struct Usage: Sendable, Equatable, Codable {
    package var inputTokens: Int
    package var outputTokens: Int
    package var cacheReadTokens: Int
    package var cacheWriteTokens: Int
    /// Dollars as the backend reported them, else as computed from a pricing table.
    package var costUSD: Double

    package init(
        inputTokens: Int = 0,
        outputTokens: Int = 0,
        cacheReadTokens: Int = 0,
        cacheWriteTokens: Int = 0,
        costUSD: Double = 0
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.costUSD = costUSD
    }

    package static let zero = Usage()

    /// The most tokens one figure may count: far above any real session, far below what overflows a sum.
    package static let tokenLimit = 1_000_000_000_000
    /// The most dollars one figure may hold; a tool reporting more is believed up to this (so breakers trip).
    package static let costLimitUSD = 1_000_000.0

    /// A token count from a number a tool printed: anything not finite or below zero is 0, anything above
    /// ``tokenLimit`` is ``tokenLimit``.
    package static func tokens(_ value: Double?) -> Int {
        guard let value, value.isFinite, value > 0 else { return 0 }
        return value >= Double(tokenLimit) ? tokenLimit : Int(value.rounded())
    }

    /// Dollars from a number a tool printed: nil when it is not a finite, non-negative number, capped at
    /// ``costLimitUSD``.
    package static func dollars(_ value: Double?) -> Double? {
        guard let value, value.isFinite, value >= 0 else { return nil }
        return min(value, costLimitUSD)
    }

    /// This usage with every figure within its bounds; what every reader of a tool's output hands on.
    package var bounded: Usage {
        Usage(
            inputTokens: min(max(0, inputTokens), Self.tokenLimit),
            outputTokens: min(max(0, outputTokens), Self.tokenLimit),
            cacheReadTokens: min(max(0, cacheReadTokens), Self.tokenLimit),
            cacheWriteTokens: min(max(0, cacheWriteTokens), Self.tokenLimit),
            costUSD: Self.dollars(costUSD) ?? 0
        )
    }

    /// Adds another usage; sums saturate instead of overflowing, whatever the figures.
    package mutating func add(_ other: Usage) {
        inputTokens = Self.sum(inputTokens, other.inputTokens)
        outputTokens = Self.sum(outputTokens, other.outputTokens)
        cacheReadTokens = Self.sum(cacheReadTokens, other.cacheReadTokens)
        cacheWriteTokens = Self.sum(cacheWriteTokens, other.cacheWriteTokens)
        let cost = costUSD + other.costUSD
        costUSD = cost.isFinite ? cost : .greatestFiniteMagnitude
    }

    private static func sum(_ a: Int, _ b: Int) -> Int {
        let (result, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? Int.max : Int.min) : result
    }

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cacheReadTokens = "cache_read_tokens"
        case cacheWriteTokens = "cache_write_tokens"
        case costUSD = "cost_usd"
    }
}

/// Lines added and removed by a commit.
package struct DiffStat: Sendable, Equatable, Codable {
    package var files: Int
    package var insertions: Int
    package var deletions: Int

    package init(files: Int = 0, insertions: Int = 0, deletions: Int = 0) {
        self.files = files
        self.insertions = insertions
        self.deletions = deletions
    }

    package var description: String { "\(files) file\(files == 1 ? "" : "s"), +\(insertions) −\(deletions)" }
}

/// An attempt as the ledger holds it.
package struct AttemptRecord: Sendable, Equatable {
    package var key: AttemptKey
    /// Order of dispatch within the mission (1, 2, 3…).
    package var sequence: Int
    package var slot: Int
    package var backend: String
    package var phase: AttemptPhase
    package var outcome: AttemptOutcome?
    package var reason: String?
    /// What the next attempt on this group is told about this one.
    package var feedback: String?
    package var startCommit: String
    package var commit: String?
    package var landedCommit: String?
    package var branch: String
    package var worktree: String
    package var promptPath: String
    package var transcriptPath: String
    package var exitCode: Int?
    package var usage: Usage
    package var diff: DiffStat?
    package var criteriaPassed: Int?
    package var startedAt: Date
    package var agentSeconds: Double?
    package var gateSeconds: Double?
    package var finishedAt: Date?
    /// The sandbox the attempt's session and gate ran in (`bwrap, network allowlist, verify network none`); nil for
    /// attempts from before sandboxes were recorded.
    package var sandbox: String?

    package init(
        key: AttemptKey,
        sequence: Int,
        slot: Int,
        backend: String,
        phase: AttemptPhase,
        outcome: AttemptOutcome?,
        reason: String?,
        feedback: String?,
        startCommit: String,
        commit: String?,
        landedCommit: String?,
        branch: String,
        worktree: String,
        promptPath: String,
        transcriptPath: String,
        exitCode: Int?,
        usage: Usage,
        diff: DiffStat?,
        criteriaPassed: Int?,
        startedAt: Date,
        agentSeconds: Double?,
        gateSeconds: Double?,
        finishedAt: Date?,
        sandbox: String? = nil
    ) {
        self.sandbox = sandbox
        self.key = key
        self.sequence = sequence
        self.slot = slot
        self.backend = backend
        self.phase = phase
        self.outcome = outcome
        self.reason = reason
        self.feedback = feedback
        self.startCommit = startCommit
        self.commit = commit
        self.landedCommit = landedCommit
        self.branch = branch
        self.worktree = worktree
        self.promptPath = promptPath
        self.transcriptPath = transcriptPath
        self.exitCode = exitCode
        self.usage = usage
        self.diff = diff
        self.criteriaPassed = criteriaPassed
        self.startedAt = startedAt
        self.agentSeconds = agentSeconds
        self.gateSeconds = gateSeconds
        self.finishedAt = finishedAt
    }
}

/// One run of the gate, a regression verify or the final verify.
package struct Verification: Sendable, Equatable, Codable {
    package var kind: VerificationKind
    package var attempt: AttemptKey?
    /// The exact commit that was checked.
    package var commit: String
    package var command: String
    /// The groups this verification was for; empty means all (the final verify).
    package var groups: [String]
    /// How many groups that had landed before were checked again with them (a regression verify).
    package var landedGroupsChecked: Int
    package var exitCode: Int?
    package var passed: Bool
    package var timedOut: Bool
    package var duration: Duration
    package var outputTail: String
    /// The JSON the command wrote to `FLOTILLA_REPORT`, if any.
    package var report: JSONValue?

    package init(
        kind: VerificationKind,
        attempt: AttemptKey?,
        commit: String,
        command: String,
        groups: [String],
        landedGroupsChecked: Int = 0,
        exitCode: Int?,
        passed: Bool,
        timedOut: Bool,
        duration: Duration,
        outputTail: String,
        report: JSONValue?
    ) {
        self.kind = kind
        self.attempt = attempt
        self.commit = commit
        self.command = command
        self.groups = groups
        self.landedGroupsChecked = landedGroupsChecked
        self.exitCode = exitCode
        self.passed = passed
        self.timedOut = timedOut
        self.duration = duration
        self.outputTail = outputTail
        self.report = report
    }

    /// Criteria the report shows passing for `group`, if the command wrote a report.
    package func criteriaPassed(in group: String) -> Int? {
        guard case .object(let criteria)? = report?["groups"]?[group]?["criteria"] else { return nil }
        return criteria.values.count { value in
            value.boolValue == true || value["passed"]?.boolValue == true
        }
    }
}

/// A verification as the ledger holds it.
package struct VerificationRecord: Sendable, Equatable {
    package var id: Int64
    package var verification: Verification
    package var at: Date

    package init(id: Int64, verification: Verification, at: Date) {
        self.id = id
        self.verification = verification
        self.at = at
    }
}

/// A landing of one attempt as the ledger holds it.
package struct MergeRecord: Sendable, Equatable {
    package enum State: String, Sendable, Codable {
        case pending
        case landed
        case conflict
        case regression
    }

    package var attempt: AttemptKey
    package var state: State
    package var targetBefore: String
    /// The commit the landing verified (and moves or moved the target branch to), once verified.
    package var mergedCommit: String?
    /// The passing regression verify of `mergedCommit`, once recorded.
    package var verification: Verification?

    package init(
        attempt: AttemptKey,
        state: State,
        targetBefore: String,
        mergedCommit: String?,
        verification: Verification?
    ) {
        self.attempt = attempt
        self.state = state
        self.targetBefore = targetBefore
        self.mergedCommit = mergedCommit
        self.verification = verification
    }
}

/// A model call as the ledger holds it.
package struct ModelCallRecord: Sendable, Equatable {
    package var call: ModelCall
    package var at: Date

    package init(call: ModelCall, at: Date) {
        self.call = call
        self.at = at
    }
}
