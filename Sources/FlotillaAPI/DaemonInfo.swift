import FlotillaCore
import Foundation

/// What a running `flotilla serve` writes to `.flotilla/daemon.json` in each repository it serves, so that the
/// CLI can find it.
package struct DaemonInfo: Codable, Sendable, Equatable {
    package var process: ProcessIdentity
    package var host: String
    package var port: Int
    package var version: String
    package var repositories: [String]
    /// Whether every API request needs a bearer token (`FLOTILLA_API_TOKEN` for the CLI).
    package var tokenRequired: Bool
    package var startedAt: Date

    enum CodingKeys: String, CodingKey {
        case process, host, port, version, repositories
        case tokenRequired = "token_required"
        case startedAt = "started_at"
    }

    package init(
        process: ProcessIdentity,
        host: String,
        port: Int,
        version: String,
        repositories: [String],
        tokenRequired: Bool,
        startedAt: Date
    ) {
        self.process = process
        self.host = host
        self.port = port
        self.version = version
        self.repositories = repositories
        self.tokenRequired = tokenRequired
        self.startedAt = startedAt
    }

    package static func path(stateDirectory: String) -> String {
        (stateDirectory as NSString).appendingPathComponent("daemon.json")
    }

    package static func read(stateDirectory: String) -> DaemonInfo? {
        guard let data = FileManager.default.contents(atPath: path(stateDirectory: stateDirectory)) else { return nil }
        return try? APIJSON.decoder.decode(DaemonInfo.self, from: data)
    }

    /// Written to a temporary file and renamed, so a reader never sees half of it.
    package func write(stateDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let data = try APIJSON.encoder.encode(self)
        try data.write(to: URL(fileURLWithPath: Self.path(stateDirectory: stateDirectory)), options: .atomic)
    }

    /// Removes the file if it still describes this daemon (a newer daemon may have replaced it).
    package func remove(stateDirectory: String) {
        // Compared by process and port: the start time loses its fraction of a second in the file.
        if let current = Self.read(stateDirectory: stateDirectory), current.process == process, current.port == port {
            try? FileManager.default.removeItem(atPath: Self.path(stateDirectory: stateDirectory))
        }
    }

    /// A URL host: IPv6 literals in brackets.
    package var urlHost: String { host.contains(":") ? "[\(host)]" : host }
}
