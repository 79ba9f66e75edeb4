import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import Foundation

/// The missions of the repository a command works in.
///
/// Reached through the daemon that serves it when one runs, else here over its ledger; commands make their call
/// on ``service`` and never ask which it is.
package struct MissionAccess: Sendable {
    package let composition: Composition
    package let root: String
    package let service: any MissionService
    /// The repository's ledger and files, whoever runs its missions.
    package let repository: MissionRepository

    /// Finds the repository (`--repo`, else the one containing the working directory) and who serves it.
    package static func open(repo: String?) async throws -> MissionAccess {
        let composition = Composition()
        let root = try await composition.repositoryRoot(repo)
        let local = try LocalMissions(composition: composition, repositories: [root], createLedgers: false)
        let repository = try local.repository(root)
        if let daemon = try daemon(serving: root, composition: composition) {
            return MissionAccess(composition: composition, root: root, service: daemon, repository: repository)
        }
        return MissionAccess(composition: composition, root: root, service: local, repository: repository)
    }

    /// The named mission, or the newest of this repository.
    package func mission(_ id: String?) async throws -> MissionDTO {
        guard let id else { return try await service.latest(in: root) }
        return try await service.require(try Self.id(id))
    }

    /// A mission id the user typed, checked.
    package static func id(_ text: String) throws -> MissionID {
        guard let id = MissionID(text) else {
            throw FlotillaError.invalid("\(text) is not a mission id (m- and 8 hex digits)")
        }
        return id
    }

    /// Whether a daemon runs this repository's missions (else they can run in this process).
    package var isServedByDaemon: Bool { service is DaemonClient }

    /// A client for the daemon serving `root`; nil when none runs or `FLOTILLA_NO_DAEMON` is set.
    private static func daemon(serving root: String, composition: Composition) throws -> DaemonClient? {
        let environment = composition.environment
        guard environment["FLOTILLA_NO_DAEMON"] == nil,
            let info = DaemonInfo.read(stateDirectory: MissionLayout(repository: root).stateDirectory),
            composition.processTable.isRunning(info.process)
        else { return nil }
        let stateDirectory = MissionLayout(repository: root).stateDirectory
        // The token given, else the one the daemon wrote for this user (every change needs one, on loopback too).
        let token =
            environment["FLOTILLA_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            ?? DaemonToken.read(stateDirectory: stateDirectory)
        if info.tokenRequired && token == nil {
            throw FlotillaError.invalid(
                "the daemon serving \(root) (process \(info.process.pid)) requires a token and "
                    + "\(DaemonToken.path(stateDirectory: stateDirectory)) cannot be read: set FLOTILLA_API_TOKEN, "
                    + "or FLOTILLA_NO_DAEMON=1 to read the ledger directly"
            )
        }
        return DaemonClient(info: info, token: token)
    }
}
