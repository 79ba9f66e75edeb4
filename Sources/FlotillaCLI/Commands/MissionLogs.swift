import ArgumentParser
import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaService
import Foundation

extension Flotilla {
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
            let access = try await MissionAccess.open(repo: global.repo)
            // The log files are this repository's, whoever runs the mission.
            let mission: MissionID
            if let id {
                mission = try await access.repository.requireRecord(try MissionAccess.id(id)).spec.id
            } else {
                mission = try MissionAccess.id(try await access.service.latest(in: access.root).id)
            }
            let layout = access.repository.layout
            let tail = LogTail(path: global.output == .json ? layout.eventsFile(mission) : layout.missionLog(mission))
            tail.printNew()
            guard follow else { return }
            if let daemon = access.service as? DaemonClient {
                // The daemon's event stream says when there is more to print; it ends when the mission does.
                try await daemon.followEvents(mission) { _ in
                    tail.printNew()
                    return true
                }
            } else {
                while try await !access.service.hasEnded(mission) {
                    // Another process writes the log; there is no cross-process signal short of the daemon.
                    try await ContinuousClock().sleep(for: .milliseconds(200))
                    tail.printNew()
                }
            }
            // The mission's process writes the log's last lines after the ledger's.
            await access.repository.waitForRunnerToFinish(mission)
            tail.printNew()
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
