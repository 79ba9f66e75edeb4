import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaStore
import Foundation

/// The missions of some repositories, over their ledgers and this machine's processes: what the CLI uses when no
/// daemon serves the repository, and what a daemon serves.
///
/// Missions run in background processes of their own (`flotilla resume ID`): a crash of one cannot take the host
/// down, and the host ending does not stop them.
package struct LocalMissions: MissionHost {
    package let repositories: [String]
    private let handles: [String: MissionRepository]
    /// Whether a supervisor restarts crashed missions (in a daemon): a crashed mission has then not ended until
    /// the supervisor gives up on it.
    package let supervised: Bool
    /// The least confinement a mission created here may run in (a daemon's `--min-sandbox`, resolved): with `.bwrap`,
    /// a request for no sandbox is refused and `auto` means bubblewrap or no mission.
    package let floor: SandboxMode
    /// A daemon's `--max-running`: nil runs every mission at once.
    package let queue: MissionQueue?

    /// `createLedgers` opens (or creates) every repository's ledger, as a daemon does; otherwise repositories
    /// without missions stay untouched.
    package init(
        composition: Composition,
        repositories roots: [String],
        createLedgers: Bool,
        supervised: Bool = false,
        floor: SandboxMode = .none,
        maxRunning: Int? = nil
    ) throws {
        var handles: [String: MissionRepository] = [:]
        for root in roots {
            handles[root] = try MissionRepository(composition: composition, root: root, create: createLedgers)
        }
        self.handles = handles
        repositories = roots
        self.supervised = supervised
        self.floor = floor
        queue = maxRunning.map(MissionQueue.init)
    }

    /// A served repository.
    package func repository(_ root: String) throws -> MissionRepository {
        guard let handle = handles[root] else {
            throw FlotillaError.invalid(
                "repository \(root) is not served here",
                fields: [FieldProblem(field: "repository", message: "is not served here")]
            )
        }
        return handle
    }

    /// The repository holding `id`, with the mission's record.
    package func find(_ id: MissionID) async throws -> (MissionRepository, MissionRecord) {
        for root in repositories {
            guard let handle = handles[root] else { continue }
            if let record = try await handle.record(id) { return (handle, record) }
        }
        throw FlotillaError.notFound("no mission \(id) (see `flotilla list`)")
    }

    package func missions(in scope: Set<String>?) async throws -> [MissionDTO] {
        var missions: [(MissionRecord, MissionDTO)] = []
        for root in repositories where scope?.contains(root) ?? true {
            guard let handle = handles[root], let ledger = try handle.existingLedger() else { continue }
            for record in try await ledger.missions(limit: 1000) {
                missions.append((record, try await handle.dto(record, detailed: false)))
            }
        }
        return missions.sorted { ($0.0.createdAt, $0.0.spec.id) > ($1.0.createdAt, $1.0.spec.id) }.map(\.1)
    }

    package func mission(_ id: MissionID) async throws -> MissionDTO? {
        guard let (handle, record) = try? await find(id) else { return nil }
        return try await handle.dto(record)
    }

    package func validate(_ fields: MissionFields, repository: String) async throws {
        let handle = try self.repository(repository)
        var request = try MissionRequestBuilder(composition: handle.composition, root: handle.root).build(fields)
        try request.raise(to: floor)
        _ = try await MissionPreparation(git: handle.composition.git(handle.root), layout: handle.layout)
            .prepare(request)
    }

    package func create(_ fields: MissionFields, repository: String) async throws -> MissionDTO {
        let handle = try self.repository(repository)
        var request = try MissionRequestBuilder(composition: handle.composition, root: handle.root).build(fields)
        try request.raise(to: floor)
        let spec = try await handle.create(request).spec
        if let queue {
            try await queue.startOrQueue(spec.id, in: handle, missions: self)
        } else {
            await handle.waitUntilStarted(spec.id, pid: try handle.launchInBackground(spec.id))
        }
        return try await handle.dto(try await handle.requireRecord(spec.id))
    }

    package func stop(_ id: MissionID, wait: Duration, end: MissionEnd) async throws -> MissionDTO {
        let (handle, record) = try await find(id)
        return try await handle.dto(try await handle.stop(record, wait: wait, end: end))
    }

    package func step(_ id: MissionID, attempts: Int) async throws -> MissionDTO {
        let (handle, record) = try await find(id)
        try await handle.allowStep(record, attempts: attempts)
        try await handle.continueInBackground(try await handle.requireRecord(id))
        return try await handle.dto(try await handle.requireRecord(id))
    }

    package func resume(_ id: MissionID) async throws -> MissionDTO {
        let (handle, record) = try await find(id)
        // A person starting a queued mission takes it out of the queue.
        if record.isQueued { try await handle.control(record).dequeue(id) }
        try await handle.continueInBackground(try await handle.requireRecord(id))
        return try await handle.dto(try await handle.requireRecord(id))
    }

    package func approve(_ id: MissionID, groups: [String]) async throws -> ApprovalDTO {
        let (handle, record) = try await find(id)
        let control = try handle.control(record)
        // Work waiting for a human (`--approve`) is what `approve` answers first; blocked groups otherwise.
        if try await !control.waitingApprovals(id).isEmpty {
            let decided = try await control.decide(id, groups: groups, ApprovalDecision(approved: true, by: "a human"))
            return try await answered(decided, of: record, in: handle)
        }
        if case .running = handle.liveness(record) {
            throw FlotillaError.conflict("mission \(id) is running; approve it once it waits for a human")
        }
        let released = try await handle.control(record).approve(id, groups: groups)
        try await handle.continueInBackground(record)
        return ApprovalDTO(released: released, mission: try await handle.dto(try await handle.requireRecord(id)))
    }

    package func reject(_ id: MissionID, groups: [String], reason: String) async throws -> ApprovalDTO {
        let (handle, record) = try await find(id)
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw FlotillaError.invalid("a rejection needs a reason: the next attempt is told it")
        }
        let decision = ApprovalDecision(approved: false, reason: reason, by: "a human")
        let decided = try await handle.control(record).decide(id, groups: groups, decision)
        return try await answered(decided, of: record, in: handle)
    }

    package func land(_ id: MissionID, onto branch: String) async throws -> LandingDTO {
        let (handle, record) = try await find(id)
        let landing = try await handle.land(record, onto: branch)
        return LandingDTO(landing, mission: try await handle.dto(try await handle.requireRecord(id)))
    }

    package func check(_ id: MissionID, groups: [String], commit: String?) async throws -> CheckDTO {
        let (handle, record) = try await find(id)
        return CheckDTO(mission: id, try await handle.check(record, groups: groups, commit: commit))
    }

    /// After a decision: a mission whose process is gone continues (and reads it); a running one reads it itself.
    private func answered(
        _ decided: [String],
        of record: MissionRecord,
        in handle: MissionRepository
    ) async throws
        -> ApprovalDTO
    {
        if case .running = handle.liveness(record) {
        } else {
            try await handle.continueInBackground(record)
        }
        return ApprovalDTO(
            released: decided,
            mission: try await handle.dto(try await handle.requireRecord(record.spec.id))
        )
    }

    package func attempts(_ id: MissionID) async throws -> HistoryDTO {
        let ledger = try await find(id).0.requireLedger()
        // Each attempt's gate, with what its tests did.
        var tests: [AttemptKey: String] = [:]
        var criteria: [AttemptKey: [CriterionResult]] = [:]
        for record in try await ledger.verifications(of: id) where record.verification.kind == .gate {
            guard let key = record.verification.attempt else { continue }
            if let evidence = record.verification.tests, !evidence.isEmpty { tests[key] = evidence.summary }
            let results = record.verification.criterionResults
            if !results.isEmpty { criteria[key] = results }
        }
        let steps = Dictionary(grouping: try await ledger.steps(of: id), by: \.key)
        return HistoryDTO(
            mission: id.rawValue,
            attempts: try await ledger.attempts(of: id).map { attempt in
                var dto = AttemptDTO(attempt)
                dto.tests = tests[attempt.key]
                dto.criteriaResults = criteria[attempt.key]
                dto.steps = steps[attempt.key]?.map { AttemptStepDTO($0.record) }
                return dto
            },
            modelCalls: try await ledger.modelCalls(of: id).map(ModelCallDTO.init),
            notifications: try await ledger.notifications(of: id).map(NotificationDTO.init)
        )
    }

    package func attempt(_ id: MissionID, sequence: Int) async throws -> AttemptDetailDTO {
        let handle = try await find(id).0
        guard let record = try await handle.requireLedger().attempts(of: id).first(where: { $0.sequence == sequence })
        else { throw FlotillaError.notFound("mission \(id) has no attempt \(sequence) (see `flotilla history \(id)`)") }
        let layout = handle.layout
        /// The end of a file the attempt wrote, if it has one yet.
        func tail(_ path: String) -> String? {
            guard let file = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? file.close() }
            let size = (try? file.seekToEnd()) ?? 0
            let limit = UInt64(AttemptDetailDTO.textLimit)
            try? file.seek(toOffset: size > limit ? size - limit : 0)
            let text = String(decoding: (try? file.readToEnd()) ?? Data(), as: UTF8.self)
            return size > limit ? "… (\(size - limit) earlier bytes not shown)\n" + text : text
        }
        return AttemptDetailDTO(
            mission: id.rawValue,
            attempt: AttemptDTO(record),
            prompt: tail(record.promptPath),
            transcript: tail(record.transcriptPath),
            diff: tail(layout.patch(id, record.key)),
            gateOutput: tail(layout.gateLog(id, record.key, .gate)),
            feedback: record.feedback
        )
    }

    package func stepFile(_ id: MissionID, sequence: Int, folder: String, file: String) async throws -> StepFileDTO {
        let handle = try await find(id).0
        let ledger = try handle.requireLedger()
        guard let attempt = try await ledger.attempts(of: id).first(where: { $0.sequence == sequence }) else {
            throw FlotillaError.notFound("mission \(id) has no attempt \(sequence) (see `flotilla history \(id)`)")
        }
        // Only a folder the ledger knows, and only a file the contract names: nothing else can be reached.
        let steps = try await ledger.steps(of: id).filter { $0.key == attempt.key }.map { AttemptStepDTO($0.record) }
        guard let step = steps.first(where: { $0.folder == folder }) else {
            let known = steps.map(\.folder).joined(separator: ", ")
            throw FlotillaError.notFound(
                "attempt \(sequence) of \(id) has no step folder \(folder)"
                    + (known.isEmpty ? " (it ran no pipeline)" : " (it has \(known))")
            )
        }
        let outputs = step.outputs.map { "out/" + $0 }
        guard StepFileDTO.fixedFiles.contains(file) || outputs.contains(file) else {
            throw FlotillaError.invalid(
                "\(file) is not a step's file: \((StepFileDTO.fixedFiles + outputs).joined(separator: ", "))"
            )
        }
        let components = ["steps", folder] + file.split(separator: "/").map(String.init)
        guard
            let text = StepFileReading.tail(
                of: components,
                under: handle.layout.pipelineDirectory(id, attempt.key),
                limit: AttemptDetailDTO.textLimit
            )
        else {
            throw FlotillaError.notFound(
                "\(folder)/\(file) of attempt \(sequence) is not there (not written, or removed by gc)"
            )
        }
        return StepFileDTO(folder: folder, file: file, text: text)
    }

    package func events(_ id: MissionID, after: Int64, limit: Int) async throws -> [EventDTO] {
        let ledger = try await find(id).0.requireLedger()
        return try await ledger.events(of: id, after: after, limit: limit).map(EventDTO.init)
    }

    package func checklist(_ id: MissionID) async throws -> ChecklistDTO {
        ChecklistDTO(try await find(id).1.spec.checklist)
    }

    package func hasEnded(_ id: MissionID) async throws -> Bool {
        let (handle, record) = try await find(id)
        switch handle.liveness(record) {
        case .ended: return true
        case .waiting, .running: return false
        case .crashed(let runner):
            guard supervised else { return true }
            // The supervisor decides: it has given up once its notice of this death announces no restart, or when
            // the restart it announced did not happen.
            let notices = try await handle.requireLedger().events(of: id, kind: .missionCrashed, since: .distantPast)
            guard
                let notice = notices.last(where: {
                    $0.crashedRunner == (runner ?? ProcessIdentity(pid: 0, startTicks: 0))
                })
            else { return false }
            let delay = Double(notice.payload(MissionEvent.MissionCrashed.self)?.delayMS ?? 0) / 1000
            return notice.announcedRestart == nil || Date().timeIntervalSince(notice.at) > delay + 30
        }
    }

    /// Counts over every served repository; a mission whose process is gone counts as crashed, not running.
    package func statistics() async throws -> LedgerStatistics {
        var total = LedgerStatistics()
        for handle in handles.values {
            guard let ledger = try handle.existingLedger() else { continue }
            var statistics = try await ledger.statistics()
            let crashed = try await ledger.missions(state: .running).filter { handle.liveness($0).isCrashed }.count
            statistics.missionsByState[MissionState.running.rawValue, default: 0] -= crashed
            statistics.missionsByState[MissionDTO.crashed, default: 0] += crashed
            total.add(statistics)
        }
        return total
    }

    package func recordDelivery(
        token: String,
        key: String,
        mission: MissionID,
        repository: String
    ) async throws -> MissionID? {
        try await self.repository(repository).requireLedger()
            .recordDelivery(token: token, key: key, mission: mission, at: Date())
    }

    package func delivery(token: String, key: String, repository: String) async throws -> MissionID? {
        try await self.repository(repository).requireLedger().delivery(token: token, key: key)
    }
}

extension MissionRequest {
    /// Raises the request's sandbox to `floor`: below it (no sandbox under a bubblewrap floor) is refused, and `auto`
    /// becomes bubblewrap, so that a machine where it stops working fails the mission instead of running it as the user.
    mutating func raise(to floor: SandboxMode) throws {
        guard floor == .bwrap else { return }
        switch fields.sandbox ?? .auto {
        case .bwrap: return
        case .auto: fields.sandbox = .bwrap
        case .none:
            throw FlotillaError.forbidden(
                "this daemon runs missions in the bwrap sandbox at least (serve --min-sandbox): a caller cannot ask "
                    + "for sandbox none",
                fields: [FieldProblem(field: "sandbox", message: "is below the daemon's floor, bwrap")]
            )
        }
    }
}
