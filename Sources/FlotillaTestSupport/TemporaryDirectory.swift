import Foundation

/// A scratch directory removed when the scope ends, for tests that touch the file system.
package struct TemporaryDirectory: Sendable {
    package let path: String

    /// A new directory in `parent` (the temporary directory by default; `/var/tmp` for a path a sandbox, whose `/tmp`
    /// is its own, would still see).
    package init(prefix: String = "flotilla-test", in parent: String = NSTemporaryDirectory()) throws {
        let base = URL(fileURLWithPath: parent).appendingPathComponent(
            "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        )
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        // Resolve symlinks (macOS /var → /private/var) so paths compare equal to what git reports.
        path = base.resolvingSymlinksInPath().path
    }

    /// An existing directory, used in place.
    package init(existing path: String) {
        self.path = path
    }

    package static func with<T>(
        prefix: String = "flotilla-test",
        _ body: (TemporaryDirectory) async throws -> T
    ) async throws -> T {
        let directory = try TemporaryDirectory(prefix: prefix)
        defer { directory.remove() }
        return try await body(directory)
    }

    package func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    package func file(_ relative: String) -> String {
        (path as NSString).appendingPathComponent(relative)
    }

    @discardableResult
    package func write(_ relative: String, _ contents: String, executable: Bool = false) throws -> String {
        let target = file(relative)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try contents.write(toFile: target, atomically: true, encoding: .utf8)
        if executable {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: target)
        }
        return target
    }

    package func read(_ relative: String) throws -> String {
        try String(contentsOfFile: file(relative), encoding: .utf8)
    }

    package func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: file(relative))
    }
}
