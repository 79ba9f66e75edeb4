import Foundation

/// The token a running `flotilla serve` makes for the user it runs as: every call that changes something needs a
/// token, on loopback too, and this is the one the CLI presents.
///
/// It is written to `.flotilla/daemon.token` in each served repository, readable by the user alone. No sandbox sees
/// it: a session's sandbox hides the repository (`.flotilla/` with it), so an agent that reaches the daemon over
/// loopback has no token to present. A new one is made at every start; it is removed when the daemon stops.
package enum DaemonToken {
    package static func path(stateDirectory: String) -> String {
        (stateDirectory as NSString).appendingPathComponent("daemon.token")
    }

    /// 32 random bytes, as hexadecimal.
    package static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }
            .joined()
    }

    /// Writes `token` readable by this user only; the file's permission is set before the token is in it.
    package static func write(_ token: String, stateDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let path = Self.path(stateDirectory: stateDirectory)
        try? FileManager.default.removeItem(atPath: path)
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data((token + "\n").utf8))
    }

    /// The token of the daemon serving a repository, if one wrote it and this user may read it.
    package static func read(stateDirectory: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path(stateDirectory: stateDirectory)) else { return nil }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }

    /// Removes the file if it still holds `token` (a newer daemon may have replaced it).
    package static func remove(_ token: String, stateDirectory: String) {
        if read(stateDirectory: stateDirectory) == token {
            try? FileManager.default.removeItem(atPath: path(stateDirectory: stateDirectory))
        }
    }
}
