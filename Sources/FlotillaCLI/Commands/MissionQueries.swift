import ArgumentParser
import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaGit
import FlotillaStore
import Foundation

/// Finds the ledger and a mission in it for the reading commands.
struct MissionLookup: Sendable {
    let composition: Composition
    let layout: MissionLayout
    let ledger: SQLiteLedger?
    let root: String

    init(repo: String?) async throws {
        composition = Composition()
        root = try await composition.repositoryRoot(repo)
        layout = MissionLayout(repository: root)
        ledger = try composition.ledger(layout, create: false)
    }

    /// A repository the daemon serves: its ledger is created if need be.
    init(composition: Composition, root: String) throws {
        self.composition = composition
        self.root = root
        layout = MissionLayout(repository: root)
        ledger = try composition.ledger(layout, create: true)
    }

    /// The named mission, or the latest one.
    func mission(_ id: String?) async throws -> (SQLiteLedger, MissionRecord) {
        guard let ledger else {
            throw FlotillaError.invalid(
                "no missions in \(root) yet (start one with `flotilla run`, or try `flotilla demo`)"
            )
        }
        if let id {
            guard let missionID = MissionID(id) else {
                throw FlotillaError.invalid("\(id) is not a mission id (m- and 8 hex digits)")
            }
            guard let record = try await ledger.mission(missionID) else {
                throw FlotillaError.invalid("no mission \(id) in \(root) (see `flotilla list`)")
            }
            return (ledger, record)
        }
        guard let latest = try await ledger.missions(limit: 1).first else {
            throw FlotillaError.invalid(
                "no missions in \(root) yet (start one with `flotilla run`, or try `flotilla demo`)"
            )
        }
        return (ledger, latest)
    }

    /// Waits (briefly) for an ended mission's process to exit: it writes the log's last lines after the ledger's.
    func waitForRunnerToFinish(_ id: MissionID, in ledger: SQLiteLedger) async {
        guard let runner = try? await ledger.mission(id)?.runner else { return }
        _ = await composition.processTable.waitForExit(runner, timeout: .seconds(10))
    }

    func targetHead(_ record: MissionRecord) async -> String? {
        try? await composition.git(root).resolveCommit("refs/heads/\(record.spec.targetBranch)")
    }
}

extension Flotilla {
    struct MissionStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show a mission's state, groups and costs (default: the latest mission)."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String?

        func run() async throws {
            let lookup = try await MissionLookup(repo: global.repo)
            let mission: MissionDTO
            if let daemon = try DaemonConnection.client(for: lookup) {
                mission = try await DaemonConnection.mission(id, client: daemon, root: lookup.root)
            } else {
                let (ledger, record) = try await lookup.mission(id)
                let groups = try await ledger.groups(of: record.spec.id)
                mission = MissionDTO(record, targetHead: await lookup.targetHead(record), groups: groups)
            }
            switch global.output {
            case .json: Console.json(mission)
            case .table: Console.out(MissionReports.status(mission))
            }
        }
    }

    struct MissionList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the missions of this repository, newest first."
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let lookup = try await MissionLookup(repo: global.repo)
            let missions: [MissionDTO]
            if let daemon = try DaemonConnection.client(for: lookup) {
                missions = try await DaemonConnection.call { try await daemon.missions() }
                    .filter { $0.repository == lookup.root }
            } else {
                missions = (try await lookup.ledger?.missions() ?? []).map {
                    MissionDTO($0, targetHead: nil, groups: nil)
                }
            }
            switch global.output {
            case .json: Console.json(missions)
            case .table: Console.out(missions.isEmpty ? "No missions yet." : MissionReports.list(missions))
            }
        }
    }

    struct MissionHistory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract:
                "Show every attempt of a mission (backend, outcome, cost, time, commit) and its planner and critic calls."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        func run() async throws {
            let lookup = try await MissionLookup(repo: global.repo)
            let (ledger, record) = try await lookup.mission(id)
            let attempts = try await ledger.attempts(of: record.spec.id)
            let calls = try await ledger.modelCalls(of: record.spec.id)
            switch global.output {
            case .json:
                Console.json(
                    HistoryDTO(
                        mission: record.spec.id.rawValue,
                        attempts: attempts.map(AttemptDTO.init),
                        modelCalls: calls.map(ModelCallDTO.init)
                    )
                )
            case .table:
                Console.out(attempts.isEmpty ? "No attempts yet." : MissionReports.history(attempts))
                if !calls.isEmpty { Console.out("\n" + MissionReports.modelCalls(calls)) }
            }
        }
    }

    struct MissionLogs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "logs",
            abstract: "Print a mission's log (default: the latest mission); -f follows it until the mission ends.",
            discussion: "With --output json, prints the mission's events (events.jsonl) instead of the narrative."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String?

        @Flag(name: .shortAndLong, help: "Keep printing new lines until the mission ends.")
        var follow = false

        func run() async throws {
            let lookup = try await MissionLookup(repo: global.repo)
            let (ledger, record) = try await lookup.mission(id)
            let path =
                global.output == .json
                ? lookup.layout.eventsFile(record.spec.id) : lookup.layout.missionLog(record.spec.id)
            if follow, let daemon = try DaemonConnection.client(for: lookup) {
                // The daemon's event stream says when there is more to print; it ends when the mission does.
                let tail = LogTail(path: path)
                tail.printNew()
                try await DaemonConnection.call {
                    try await daemon.followEvents(record.spec.id.rawValue) { _ in
                        tail.printNew()
                        return true
                    }
                }
                await lookup.waitForRunnerToFinish(record.spec.id, in: ledger)
                tail.printNew()
                return
            }
            var offset: UInt64 = 0
            let clock = ContinuousClock()
            while true {
                offset = printNew(path: path, from: offset)
                guard follow else { return }
                if let state = try await ledger.mission(record.spec.id)?.state, state.isTerminal {
                    await lookup.waitForRunnerToFinish(record.spec.id, in: ledger)
                    _ = printNew(path: path, from: offset)
                    return
                }
                // Another process writes the log; there is no cross-process signal short of the daemon.
                try await clock.sleep(for: .milliseconds(200))
            }
        }

        private func printNew(path: String, from offset: UInt64) -> UInt64 {
            guard let handle = FileHandle(forReadingAtPath: path) else { return offset }
            defer { try? handle.close() }
            try? handle.seek(toOffset: offset)
            let data = handle.readDataToEndOfFile()
            if !data.isEmpty { FileHandle.standardOutput.write(data) }
            return offset + UInt64(data.count)
        }
    }
}

/// Prints what was appended to a file since the last call.
private final class LogTail: @unchecked Sendable {
    // Called from the event stream's reading thread and from the command, never at the same time.
    private let lock = NSLock()
    private let path: String
    private var offset: UInt64 = 0

    init(path: String) {
        self.path = path
    }

    func printNew() {
        lock.withLock {
            guard let handle = FileHandle(forReadingAtPath: path) else { return }
            defer { try? handle.close() }
            try? handle.seek(toOffset: offset)
            let data = handle.readDataToEndOfFile()
            if !data.isEmpty { FileHandle.standardOutput.write(data) }
            offset += UInt64(data.count)
        }
    }
}
