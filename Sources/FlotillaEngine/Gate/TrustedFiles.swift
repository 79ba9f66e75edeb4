import FlotillaCore
import Foundation

/// A file of the gate (the verify script, what it delegates to, a group's check) as the base commit holds it.
package struct TrustedFile: Sendable, Equatable {
    package var contents: String
    package var executable: Bool
}

/// The gate's files, taken from the mission's base commit.
///
/// Derived at every start and resume from the commit id the ledger holds, never read from a copy on disk that an
/// agent (or anything else) could have rewritten between runs.
package enum TrustedFiles {
    /// The harness's files (``Harness``: what the verify command and the groups' checks run, followed through the
    /// scripts, Makefiles, `package.json` and `tox.ini` they delegate to), as the base commit has them.
    package static func derive(
        _ harness: Harness,
        base: String,
        git: any GitRepository
    ) async throws -> [String: TrustedFile] {
        var files: [String: TrustedFile] = [:]
        for path in harness.files.keys.sorted() {
            guard let contents = try await git.fileContents(at: base, path: path) else { continue }
            let mode = try await git.fileMode(at: base, path: path)
            files[path] = TrustedFile(contents: contents, executable: mode == 0o100755)
        }
        return files
    }

    /// Writes the trusted files into a checkout, replacing whatever stands at their paths (or on the way to them):
    /// a symbolic link is removed, never followed, so that nothing is written outside `directory`.
    static func restore(_ files: [String: TrustedFile], in directory: String) throws {
        let manager = FileManager.default
        for (path, file) in files {
            let target = (directory as NSString).appendingPathComponent(path)
            if let current = manager.regularFileContents(atPath: target, limit: file.contents.utf8.count),
                current == Data(file.contents.utf8), manager.isExecutableFile(atPath: target) == file.executable
            {
                continue
            }
            var parent = directory
            for component in path.split(separator: "/").dropLast() {
                parent = (parent as NSString).appendingPathComponent(String(component))
                if (try? manager.attributesOfItem(atPath: parent))?[.type] as? FileAttributeType != .typeDirectory {
                    try? manager.removeItem(atPath: parent)
                    try manager.createDirectory(atPath: parent, withIntermediateDirectories: false)
                }
            }
            if (try? manager.attributesOfItem(atPath: target)) != nil { try manager.removeItem(atPath: target) }
            guard
                manager.createFile(
                    atPath: target,
                    contents: Data(file.contents.utf8),
                    attributes: [.posixPermissions: file.executable ? 0o755 : 0o644]
                )
            else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target]) }
        }
    }
}
