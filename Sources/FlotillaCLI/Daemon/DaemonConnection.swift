import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import Foundation

/// The daemon serving a repository, when one runs: the CLI then controls missions through its API.
enum DaemonConnection {
    /// A client for the daemon serving `lookup`'s repository; nil when none runs or `FLOTILLA_NO_DAEMON` is set.
    static func client(for lookup: MissionLookup) throws -> DaemonClient? {
        let environment = lookup.composition.environment
        guard environment["FLOTILLA_NO_DAEMON"] == nil,
            let info = DaemonInfo.read(stateDirectory: lookup.layout.stateDirectory),
            lookup.composition.processTable.isRunning(info.process)
        else { return nil }
        let token = environment["FLOTILLA_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if info.tokenRequired && token == nil {
            throw FlotillaError.invalid(
                "the daemon serving \(lookup.root) (process \(info.process.pid)) requires a token: set "
                    + "FLOTILLA_API_TOKEN, or FLOTILLA_NO_DAEMON=1 to read the ledger directly"
            )
        }
        return DaemonClient(info: info, token: token)
    }

    /// Runs a daemon call; its refusals (4xx) are bad input, reported in one line.
    static func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DaemonError where (400..<500).contains(error.status) {
            throw FlotillaError.invalid(error.message)
        } catch let error as HTTPClientError {
            throw FlotillaError.invalid(
                "the daemon did not answer: \(error); FLOTILLA_NO_DAEMON=1 reads the ledger directly"
            )
        }
    }

    /// The mission named, or the latest of this repository, as the daemon sees it.
    static func mission(_ id: String?, client: DaemonClient, root: String) async throws -> MissionDTO {
        if let id {
            guard MissionID(id) != nil else {
                throw FlotillaError.invalid("\(id) is not a mission id (m- and 8 hex digits)")
            }
            return try await call { try await client.mission(id) }
        }
        guard let latest = try await call({ try await client.missions() }).first(where: { $0.repository == root })
        else {
            throw FlotillaError.invalid(
                "no missions in \(root) yet (start one with `flotilla run`, or try `flotilla demo`)"
            )
        }
        return try await call { try await client.mission(latest.id) }
    }

    /// Waits for the mission to end, printing its events as they come; returns its exit status.
    static func follow(_ id: String, client: DaemonClient, output: OutputFormat) async throws -> Int32 {
        try await call {
            try await client.followEvents(id) { event in
                if output == .json, let line = try? APIJSON.encoder.encode(event) {
                    FileHandle.standardOutput.write(line + Data("\n".utf8))
                } else {
                    let group = event.group.map { " \($0)" + (event.attempt.map { "#\($0)" } ?? "") } ?? ""
                    Console.err("[\(event.kind)]\(group) \(event.message)")
                }
                return true
            }
        }
        let final = try await call { try await client.mission(id) }
        return final.stopReason.flatMap(StopReason.init(rawValue:))?.exitCode ?? 1
    }
}
