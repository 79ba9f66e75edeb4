import Foundation

/// The payloads of a mission's own events: its start and end, recovery, breakers, approvals, groups added.
extension MissionEvent {
    package struct MissionCreated: EventPayload {
        package static let kinds: [EventKind] = [.missionCreated]
        package var goal: String
        package var baseCommit: String
        package var targetBranch: String
        package var groups: Int

        enum CodingKeys: String, CodingKey {
            case goal, groups
            case baseCommit = "base_commit"
            case targetBranch = "target_branch"
        }
    }

    package struct MissionStarted: EventPayload {
        package static let kinds: [EventKind] = [.missionStarted]
        package var agents: Int
        package var backend: String
        package var resumed: Bool
        /// The process the run is in.
        package var runnerPID: Int32?
        /// How sessions are confined (and, when not as asked, why).
        package var sandbox: String?

        enum CodingKeys: String, CodingKey {
            case agents, backend, resumed, sandbox
            case runnerPID = "runner_pid"
        }
    }

    package struct Recovered: EventPayload {
        package static let kinds: [EventKind] = [.missionRecovered]
        package var actions: [String]
    }

    package struct GroupsApproved: EventPayload {
        package static let kinds: [EventKind] = [.groupsApproved]
        package var groups: [String]
    }

    package struct BreakerTripped: EventPayload {
        package static let kinds: [EventKind] = [.breakerTripped]
        package var reason: StopReason
        package var detail: String
    }

    package struct MissionFinished: EventPayload {
        package static let kinds: [EventKind] = [.missionFinished]
        package var reason: StopReason
        package var state: MissionState
    }

    /// `flotilla step`: this many more attempts, then the mission pauses (`step_limit`).
    package struct MissionStepped: EventPayload {
        package static let kinds: [EventKind] = [.missionStepped]
        package var attempts: Int
        /// Attempts started in all when the mission pauses.
        package var pauseAfterAttempts: Int

        enum CodingKeys: String, CodingKey {
            case attempts
            case pauseAfterAttempts = "pause_after_attempts"
        }
    }

    package struct MissionCrashed: EventPayload {
        package static let kinds: [EventKind] = [.missionCrashed]
        package var runnerPID: Int32
        package var runnerStartTicks: UInt64
        /// How long the supervisor waits before the restart.
        package var delayMS: Int64
        package var limit: Int
        /// The restart it announced (1 for the first); nil when the supervisor gave up.
        package var restart: Int?

        enum CodingKeys: String, CodingKey {
            case limit, restart
            case runnerPID = "runner_pid"
            case runnerStartTicks = "runner_start_ticks"
            case delayMS = "delay_ms"
        }

        /// The process whose death it is about.
        package var runner: ProcessIdentity { ProcessIdentity(pid: runnerPID, startTicks: runnerStartTicks) }
    }

    package struct ModelCalled: EventPayload {
        package static let kinds: [EventKind] = [.modelCalled]
        package var role: ModelCall.Role
        package var model: String
        package var inputTokens: Int
        package var outputTokens: Int
        package var costUSD: Double
        package var durationMS: Int64
        package var error: String?

        enum CodingKeys: String, CodingKey {
            case role, model, error
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
            case costUSD = "cost_usd"
            case durationMS = "duration_ms"
        }
    }

    /// Whether an approval is about a landing or the whole mission.
    package enum ApprovalScope: String, Sendable, Codable {
        case landing, mission
    }

    package struct ApprovalRequested: EventPayload {
        package static let kinds: [EventKind] = [.approvalRequested]
        package var scope: ApprovalScope
        /// What the human decides, when it is not the landing or the finished mission.
        package var question: String?
    }

    package struct ApprovalDecided: EventPayload {
        package static let kinds: [EventKind] = [.approvalDecided]
        package var approved: Bool
        package var by: String
        package var scope: ApprovalScope
        package var reason: String?
    }

    package struct GroupsAdded: EventPayload {
        package static let kinds: [EventKind] = [.groupsAdded]
        package var groups: [String]
        package var by: String
    }

    /// A daemon at its `--max-running` holds a new mission; `ahead` missions wait before it.
    package struct MissionQueued: EventPayload {
        package static let kinds: [EventKind] = [.missionQueued]
        package var ahead: Int
        package var maxRunning: Int

        enum CodingKeys: String, CodingKey {
            case ahead
            case maxRunning = "max_running"
        }
    }

    /// A queued mission's turn came.
    package struct MissionDequeued: EventPayload {
        package static let kinds: [EventKind] = [.missionDequeued]
        package var waitedMS: Int64

        enum CodingKeys: String, CodingKey {
            case waitedMS = "waited_ms"
        }
    }
}
