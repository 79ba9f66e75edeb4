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
            throw InputError("no missions in \(root) yet (start one with `flotilla run`, or try `flotilla demo`)")
        }
        if let id {
            guard let missionID = MissionID(id) else {
                throw InputError("\(id) is not a mission id (m- and 8 hex digits)")
            }
            guard let record = try await ledger.mission(missionID) else {
                throw InputError("no mission \(id) in \(root) (see `flotilla list`)")
            }
            return (ledger, record)
        }
        guard let latest = try await ledger.missions(limit: 1).first else {
            throw InputError("no missions in \(root) yet (start one with `flotilla run`, or try `flotilla demo`)")
        }
        return (ledger, latest)
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
            let (ledger, record) = try await lookup.mission(id)
            let groups = try await ledger.groups(of: record.spec.id)
            let head = await lookup.targetHead(record)
            switch global.output {
            case .json: Console.json(MissionDTO(record, targetHead: head, groups: groups))
            case .table: Console.out(MissionReports.status(record, groups: groups, targetHead: head))
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
            let records = try await lookup.ledger?.missions() ?? []
            switch global.output {
            case .json: Console.json(records.map { MissionDTO($0, targetHead: nil, groups: nil) })
            case .table: Console.out(records.isEmpty ? "No missions yet." : MissionReports.list(records))
            }
        }
    }

    struct MissionHistory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract: "Show every attempt of a mission: outcome, cost, time and commit."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        func run() async throws {
            let lookup = try await MissionLookup(repo: global.repo)
            let (ledger, record) = try await lookup.mission(id)
            let attempts = try await ledger.attempts(of: record.spec.id)
            switch global.output {
            case .json:
                Console.json(HistoryDTO(mission: record.spec.id.rawValue, attempts: attempts.map(AttemptDTO.init)))
            case .table: Console.out(attempts.isEmpty ? "No attempts yet." : MissionReports.history(attempts))
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
            var offset: UInt64 = 0
            let clock = ContinuousClock()
            while true {
                offset = printNew(path: path, from: offset)
                guard follow else { return }
                if let state = try await ledger.mission(record.spec.id)?.state, state.isTerminal {
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
