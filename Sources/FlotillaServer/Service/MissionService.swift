import FlotillaAPI
import FlotillaCore

/// What the API needs from the missions it serves.
///
/// The composition root implements it over the repositories' ledgers, git and the background runner; the
/// server itself does HTTP, access and accounting only.
package protocol MissionService: Sendable {
    /// The repositories served, as absolute paths of their roots.
    var repositories: [String] { get }

    /// Missions of the given repositories (all when nil), newest first.
    func missions(in repositories: Set<String>?) async throws -> [MissionDTO]
    /// The mission and its groups; nil if no served repository has it.
    func mission(_ id: MissionID) async throws -> MissionDTO?
    /// Checks a request against the repository as `create` would, and writes nothing.
    func validate(_ request: MissionFields, repository: String) async throws
    /// Creates the mission and starts it in the background.
    func create(_ request: MissionFields, repository: String) async throws -> MissionDTO
    /// Stops a running mission gracefully, killing its process after `wait`.
    func stop(_ id: MissionID, wait: Duration) async throws -> MissionDTO
    /// Continues a stopped or crashed mission in the background.
    func resume(_ id: MissionID) async throws -> MissionDTO
    /// Releases blocked groups (all when `groups` is empty) and resumes the mission.
    func approve(_ id: MissionID, groups: [String]) async throws -> ApprovalDTO
    func attempts(_ id: MissionID) async throws -> HistoryDTO
    func events(_ id: MissionID, after: Int64, limit: Int) async throws -> [EventDTO]
    func checklist(_ id: MissionID) async throws -> ChecklistDTO
    /// Whether the mission has ended (no more events will come unless it is resumed).
    func hasEnded(_ id: MissionID) async throws -> Bool
    /// Counts over every served repository, for `/metrics`.
    func statistics() async throws -> LedgerStatistics
    /// Records a webhook delivery; returns the mission an earlier delivery with the same key started instead.
    func recordDelivery(token: String, key: String, mission: MissionID, repository: String) async throws -> MissionID?
    func delivery(token: String, key: String, repository: String) async throws -> MissionID?
    /// Repairs what a crash left and continues missions whose process died (daemon start); returns what it did.
    func reconcile() async throws -> [String]
}
