import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaServer
import FlotillaStore
import FlotillaSystem
import Foundation

/// The missions of the repositories a daemon serves, over their ledgers and git.
///
/// Each mission runs in a background process of its own (`flotilla resume ID`), exactly as `run --detach`
/// starts it: a crash of one mission cannot take the daemon down, and restarting the daemon does not stop them.
struct DaemonMissions: MissionService {
    private let lookups: [String: MissionLookup]
    let repositories: [String]

    init(composition: Composition, repositories roots: [String]) throws {
        var lookups: [String: MissionLookup] = [:]
        for root in roots { lookups[root] = try MissionLookup(composition: composition, root: root) }
        self.lookups = lookups
        repositories = roots
    }

    private func ledger(_ lookup: MissionLookup) throws -> SQLiteLedger {
        guard let ledger = lookup.ledger else { throw FlotillaError.notFound("no ledger in \(lookup.root)") }
        return ledger
    }

    /// The repository holding `id`, with the mission's record.
    private func find(_ id: MissionID) async throws -> (MissionLookup, SQLiteLedger, MissionRecord) {
        for root in repositories {
            guard let lookup = lookups[root], let ledger = lookup.ledger else { continue }
            if let record = try await ledger.mission(id) { return (lookup, ledger, record) }
        }
        throw FlotillaError.notFound("no mission \(id)")
    }

    private func lookup(_ repository: String) throws -> MissionLookup {
        guard let lookup = lookups[repository] else {
            throw FlotillaError.invalid("repository \(repository) is not served here")
        }
        return lookup
    }

    func missions(in scope: Set<String>?) async throws -> [MissionDTO] {
        var records: [MissionRecord] = []
        for root in repositories where scope?.contains(root) ?? true {
            if let lookup = lookups[root] { records += try await ledger(lookup).missions(limit: 1000) }
        }
        return
            records
            .sorted { ($0.createdAt, $0.spec.id) > ($1.createdAt, $1.spec.id) }
            .map { MissionDTO($0, targetHead: nil, groups: nil) }
    }

    func mission(_ id: MissionID) async throws -> MissionDTO? {
        guard let (lookup, ledger, record) = try? await find(id) else { return nil }
        return try await dto(lookup, ledger, record)
    }

    private func dto(
        _ lookup: MissionLookup,
        _ ledger: SQLiteLedger,
        _ record: MissionRecord
    ) async throws
        -> MissionDTO
    {
        MissionDTO(
            record,
            targetHead: await lookup.targetHead(record),
            groups: try await ledger.groups(of: record.spec.id)
        )
    }

    func validate(_ request: MissionFields, repository: String) async throws {
        let lookup = try lookup(repository)
        let mission = try MissionRequestBuilder(composition: lookup.composition, root: lookup.root).build(request)
        _ = try await MissionPreparation(git: lookup.composition.git(lookup.root), layout: lookup.layout)
            .prepare(mission)
    }

    func create(_ request: MissionFields, repository: String) async throws -> MissionDTO {
        let lookup = try lookup(repository)
        let launch = MissionLaunch(composition: lookup.composition, root: lookup.root, output: .json)
        let mission = try MissionRequestBuilder(composition: lookup.composition, root: lookup.root).build(request)
        let spec = try await launch.create(mission)
        await waitUntilStarted(lookup, spec.id, pid: try launch.runInBackground(spec.id))
        let (_, ledger, record) = try await find(spec.id)
        return try await dto(lookup, ledger, record)
    }

    func stop(_ id: MissionID, wait: Duration) async throws -> MissionDTO {
        let (lookup, ledger, record) = try await find(id)
        guard record.state == .running else {
            throw FlotillaError.conflict("mission \(id) is not running (\(record.state.rawValue))")
        }
        _ = try await lookup.stop(ledger, record, wait: wait) { _ in }
        return try await dto(lookup, ledger, try await find(id).2)
    }

    func resume(_ id: MissionID) async throws -> MissionDTO {
        let (lookup, ledger, record) = try await find(id)
        try await continueInBackground(lookup, record)
        return try await dto(lookup, ledger, try await find(id).2)
    }

    func approve(_ id: MissionID, groups: [String]) async throws -> ApprovalDTO {
        let (lookup, ledger, record) = try await find(id)
        if record.state == .running, let runner = record.runner, lookup.composition.processTable.isRunning(runner) {
            throw FlotillaError.conflict("mission \(id) is running; approve it once it waits for a human")
        }
        let released: [String]
        do {
            released = try await lookup.controlRunner(ledger, for: record).approve(id, groups: groups)
        } catch let error as EngineError {
            throw FlotillaError.invalid(error.description)
        }
        try await continueInBackground(lookup, record)
        return ApprovalDTO(released: released, mission: try await dto(lookup, ledger, try await find(id).2))
    }

    private func continueInBackground(_ lookup: MissionLookup, _ record: MissionRecord) async throws {
        if record.state == .running, let runner = record.runner, lookup.composition.processTable.isRunning(runner) {
            throw FlotillaError.conflict("mission \(record.spec.id) is already running (process \(runner.pid))")
        }
        let pid = try MissionLaunch(composition: lookup.composition, root: lookup.root, output: .json)
            .runInBackground(record.spec.id)
        await waitUntilStarted(lookup, record.spec.id, pid: pid)
    }

    /// Waits (at most 15 s) until the mission's new process has recorded itself as its runner, or has ended.
    ///
    /// So that what the API answers after a start or resume already shows the mission running; the process
    /// writes only to the ledger, which is therefore polled.
    private func waitUntilStarted(_ lookup: MissionLookup, _ id: MissionID, pid: Int32) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(15))
        while clock.now < deadline {
            if let record = try? await lookup.ledger?.mission(id) {
                if record.runner?.pid == pid && record.state == .running { return }
                if record.runner?.pid == pid && record.state.isTerminal { return }
            }
            guard LinuxProcessTable.identity(of: pid) != nil else { return }
            try? await clock.sleep(for: .milliseconds(20))
        }
    }

    func attempts(_ id: MissionID) async throws -> HistoryDTO {
        let (_, ledger, _) = try await find(id)
        return HistoryDTO(
            mission: id.rawValue,
            attempts: try await ledger.attempts(of: id).map(AttemptDTO.init),
            modelCalls: try await ledger.modelCalls(of: id).map(ModelCallDTO.init)
        )
    }

    func events(_ id: MissionID, after: Int64, limit: Int) async throws -> [EventDTO] {
        let (_, ledger, _) = try await find(id)
        return try await ledger.events(of: id, after: after, limit: limit).map(EventDTO.init)
    }

    func checklist(_ id: MissionID) async throws -> ChecklistDTO {
        let (_, _, record) = try await find(id)
        let checklist = record.spec.checklist
        let json = (try? JSONDecoder().decode(JSONValue.self, from: ChecklistJSON.encode(checklist))) ?? .null
        return ChecklistDTO(markdown: ChecklistRenderer.render(checklist), checklist: json)
    }

    func hasEnded(_ id: MissionID) async throws -> Bool {
        let (lookup, _, record) = try await find(id)
        if record.state.isTerminal { return true }
        // Running, but its process is gone: it crashed, and nothing more will happen until it is resumed.
        if record.state == .running, let runner = record.runner {
            return !lookup.composition.processTable.isRunning(runner)
        }
        return false
    }

    func statistics() async throws -> LedgerStatistics {
        var total = LedgerStatistics()
        for lookup in lookups.values { total.add(try await ledger(lookup).statistics()) }
        return total
    }

    func recordDelivery(
        token: String,
        key: String,
        mission: MissionID,
        repository: String
    ) async throws
        -> MissionID?
    {
        try await ledger(try lookup(repository)).recordDelivery(token: token, key: key, mission: mission, at: Date())
    }

    func delivery(token: String, key: String, repository: String) async throws -> MissionID? {
        try await ledger(try lookup(repository)).delivery(token: token, key: key)
    }

    func reconcile() async throws -> [String] {
        var actions: [String] = []
        for root in repositories {
            guard let lookup = lookups[root] else { continue }
            for record in try await ledger(lookup).missions(limit: nil) where record.state == .running {
                if let runner = record.runner, lookup.composition.processTable.isRunning(runner) { continue }
                // Its process died with the machine or the daemon: `resume` repairs what it left and carries on.
                try await continueInBackground(lookup, record)
                actions.append("resumed \(record.spec.id) in \(root) (its process had died)")
            }
        }
        return actions
    }
}
