import FlotillaCore
import Foundation

/// What can be done to missions.
///
/// The same whether they are reached here, over their repositories' ledgers and processes, or through a daemon's
/// API; commands, the API server and the supervisor are built on it.
package protocol MissionService: Sendable {
    /// The repositories served, as absolute paths of their roots.
    var repositories: [String] { get }

    /// Missions of the given repositories (all when nil), newest first.
    func missions(in repositories: Set<String>?) async throws -> [MissionDTO]
    /// The mission with its groups; nil if no served repository has it.
    func mission(_ id: MissionID) async throws -> MissionDTO?
    /// Checks a request against the repository as `create` would, and writes nothing.
    func validate(_ fields: MissionFields, repository: String) async throws
    /// Creates the mission and starts it in the background.
    func create(_ fields: MissionFields, repository: String) async throws -> MissionDTO
    /// Stops a running mission gracefully, killing its process after `wait`; `end` says whether it may go on.
    func stop(_ id: MissionID, wait: Duration, end: MissionEnd) async throws -> MissionDTO
    /// Continues a stopped or not yet started mission in the background for `attempts` more attempts, then pauses it
    /// (`step_limit`).
    func step(_ id: MissionID, attempts: Int) async throws -> MissionDTO
    /// Continues a stopped or crashed mission in the background.
    func resume(_ id: MissionID) async throws -> MissionDTO
    /// Releases blocked groups (all when `groups` is empty) and resumes the mission.
    func approve(_ id: MissionID, groups: [String]) async throws -> ApprovalDTO
    /// Rejects work waiting for a human (`--approve`): the landings of `groups` (all when empty), or the finished
    /// mission; `reason` goes to the group's next attempt.
    func reject(_ id: MissionID, groups: [String], reason: String) async throws -> ApprovalDTO
    /// Brings a completed mission's verified result onto the user's `branch` (fast-forward or merge), after a verify of
    /// exactly the commit the branch will point at.
    func land(_ id: MissionID, onto branch: String) async throws -> LandingDTO
    /// The verify and the probes on `commit` (the target's head when nil) for `groups` (all when empty).
    func check(_ id: MissionID, groups: [String], commit: String?) async throws -> CheckDTO
    func attempts(_ id: MissionID) async throws -> HistoryDTO
    /// One attempt (by its sequence number in the mission) with its prompt, transcript, diff and gate output.
    func attempt(_ id: MissionID, sequence: Int) async throws -> AttemptDetailDTO
    /// One file of a pipeline step's folder (`02_implement.1`): `prompt.md`, `transcript.log`, `patch.diff`,
    /// `result.json`, or `out/NAME` for an output the step declares (its last 256 KiB).
    func stepFile(_ id: MissionID, sequence: Int, folder: String, file: String) async throws -> StepFileDTO
    func events(_ id: MissionID, after: Int64, limit: Int) async throws -> [EventDTO]
    func checklist(_ id: MissionID) async throws -> ChecklistDTO
    /// Whether the mission has ended: nothing more happens until someone resumes it.
    func hasEnded(_ id: MissionID) async throws -> Bool
}

/// How `stop` leaves a mission.
package enum MissionEnd: Sendable, Equatable {
    /// Stopped, resumable (the default).
    case pause
    /// Ended for good: `resume` refuses it.
    case terminate
    /// Declared complete by a person, with why: groups not landed are waived.
    case complete(reason: String)

    /// The most a reason may hold.
    package static let reasonLimit = 2000

    /// `pause`, `terminate` or `complete`, as the API and MCP name them; the reason is required with `complete`.
    package init(named name: String?, reason: String?) throws {
        let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        switch name ?? "pause" {
        case "pause": self = .pause
        case "terminate": self = .terminate
        case "complete":
            guard !reason.isEmpty else {
                throw FlotillaError.invalid(
                    "a mission declared complete needs a reason: the report shows it",
                    fields: [FieldProblem(field: "reason", message: "is required with end=complete")]
                )
            }
            guard reason.count <= Self.reasonLimit else {
                throw FlotillaError.invalid(
                    "the reason is longer than \(Self.reasonLimit) characters",
                    fields: [FieldProblem(field: "reason", message: "at most \(Self.reasonLimit) characters")]
                )
            }
            self = .complete(reason: reason)
        default:
            throw FlotillaError.invalid(
                "end must be pause, terminate or complete",
                fields: [FieldProblem(field: "end", message: "must be pause, terminate or complete")]
            )
        }
    }

    /// The name the API uses.
    package var name: String {
        switch self {
        case .pause: "pause"
        case .terminate: "terminate"
        case .complete: "complete"
        }
    }

    package var reason: String? {
        if case .complete(let reason) = self { return reason }
        return nil
    }
}

extension MissionService {
    /// The mission, or a not-found error that says where to look.
    package func require(_ id: MissionID) async throws -> MissionDTO {
        guard let mission = try await mission(id) else {
            throw FlotillaError.notFound("no mission \(id) (see `flotilla list`)")
        }
        return mission
    }

    /// Every event of the mission, oldest first, read page by page.
    package func allEvents(_ id: MissionID) async throws -> [EventDTO] {
        var events: [EventDTO] = []
        while true {
            let page = try await self.events(id, after: events.last?.id ?? 0, limit: 10_000)
            events += page
            if page.count < 10_000 { return events }
        }
    }

    /// The newest mission of `repository`.
    package func latest(in repository: String) async throws -> MissionDTO {
        guard let latest = try await missions(in: [repository]).first, let id = MissionID(latest.id) else {
            throw FlotillaError.notFound(
                "no missions in \(repository) yet (start one with `flotilla run`, or try `flotilla demo`)"
            )
        }
        return try await require(id)
    }

    /// Finished, or crashed (as a client sees it).
    package func hasEnded(_ id: MissionID) async throws -> Bool {
        let state = try await require(id).state
        return state == MissionDTO.crashed || MissionState(rawValue: state)?.isTerminal == true
    }
}

/// What a daemon's host adds for the API server: monitoring and webhook deliveries.
package protocol MissionHost: MissionService {
    /// Counts over every served repository, for `/metrics`.
    func statistics() async throws -> LedgerStatistics
    /// Records a webhook delivery; returns the mission an earlier delivery with the same key started instead.
    func recordDelivery(token: String, key: String, mission: MissionID, repository: String) async throws -> MissionID?
    func delivery(token: String, key: String, repository: String) async throws -> MissionID?
}
