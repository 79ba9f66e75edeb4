import FlotillaCore
import Foundation
import Synchronization

/// The guarded parts of the agent CLIs' settings (``ToolSettings``) as they were before a session, to put back after.
///
/// A hook, an MCP server or a plugin an agent plants in its tool's settings would run as the user in the next session
/// or model role; whatever a session changed there is undone when it ends, and the attempt's event names it.
package struct SettingsWatch: Sendable {
    /// A path as `lstat` sees it (links are not followed).
    struct Entry: Equatable, Sendable {
        enum Kind: Equatable, Sendable { case file, directory, link, other }
        let kind: Kind
        let inode: UInt64
        let size: Int
        /// Nanoseconds since 1970.
        let modified: Int64
        let permissions: Int

        /// Whether `other` may differ from it: a directory is the same directory whatever it holds (its entries are
        /// compared one by one); anything else is unchanged only when its `lstat` is.
        func same(as other: Entry) -> Bool {
            kind == .directory ? other.kind == .directory : self == other
        }
    }

    /// What was kept of a path to put it back.
    struct Kept: Sendable {
        let entry: Entry
        /// A file's bytes; nil for a file over the limits (seen changed, not put back).
        let contents: Data?
        let link: String?
    }

    /// The most of one file kept to put back, and of all files together.
    static let fileLimit = 1 << 20
    static let totalLimit = 16 << 20
    /// The most paths read; past it, nothing the session added is removed (what was read is still put back).
    static let entryLimit = 10_000
    /// Restores of sessions that end together run one at a time.
    private static let restoring = Mutex(())

    let settings: ToolSettings
    private(set) var kept: [String: Kept] = [:]
    /// The guarded keys of each keyed file, as canonical JSON (absent keys missing), and the file itself.
    private var keyed: [String: (keys: [String: Data], file: Data?)] = [:]

    /// What `settings` guards now.
    package static func capture(_ settings: SandboxSettings) -> SettingsWatch? {
        let guarded = settings.toolSettings
        guard guarded != .none else { return nil }
        var watch = SettingsWatch(settings: guarded)
        var total = 0
        for (path, entry) in Self.walk(guarded.paths) {
            var contents: Data?
            var link: String?
            switch entry.kind {
            case .file where entry.size <= fileLimit && total + entry.size <= totalLimit:
                contents = Self.contents(of: path)
                total += contents?.count ?? 0
            case .link:
                link = try? FileManager.default.destinationOfSymbolicLink(atPath: path)
            default:
                break
            }
            watch.kept[path] = Kept(entry: entry, contents: contents, link: link)
        }
        for file in guarded.keyed {
            let data = FileManager.default.regularFileContents(atPath: file.path, limit: Self.fileLimit)
            watch.keyed[file.path] = (Self.values(of: file.keys, in: data), data)
        }
        return watch
    }

    /// Puts back what changed since the capture; gives the paths that changed, sorted.
    ///
    /// Files and directories added are removed, changed or removed ones written back, guarded keys restored; a path
    /// that could not be put back is noted so. Only what `lstat` shows changed is read again.
    package func restore() -> [String] {
        Self.restoring.withLock { _ in
            var changed: Set<String> = []
            var notes: [String] = []
            let now = Self.walk(settings.paths)
            let fileManager = FileManager.default
            let complete = kept.count < Self.entryLimit && now.count < Self.entryLimit
            if !complete { notes.append("(more than \(Self.entryLimit) guarded paths: additions are not removed)") }
            // Added, or no longer of the same kind: removed, deepest first.
            for (path, entry) in now.sorted(by: { $0.key > $1.key }) where complete {
                guard let before = kept[path] else {
                    try? fileManager.removeItem(atPath: path)
                    changed.insert(path)
                    continue
                }
                if before.entry.kind != entry.kind {
                    try? fileManager.removeItem(atPath: path)
                    changed.insert(path)
                }
            }
            // Changed or removed: written back, parents first.
            for (path, before) in kept.sorted(by: { $0.key < $1.key }) {
                if let entry = now[path], before.entry.same(as: entry) { continue }
                switch before.entry.kind {
                case .directory:
                    try? fileManager.createDirectory(atPath: path, withIntermediateDirectories: true)
                    changed.insert(path)
                case .file:
                    guard let contents = before.contents else {
                        notes.append(path + " (too large to put back)")
                        continue
                    }
                    // Touched but the same bytes: nothing to put back.
                    if now[path]?.kind == .file, Self.contents(of: path) == contents { continue }
                    try? fileManager.removeItem(atPath: path)
                    _ = fileManager.createFile(
                        atPath: path,
                        contents: contents,
                        attributes: [.posixPermissions: before.entry.permissions]
                    )
                    changed.insert(path)
                case .link:
                    try? fileManager.removeItem(atPath: path)
                    try? fileManager.createSymbolicLink(atPath: path, withDestinationPath: before.link ?? "")
                    changed.insert(path)
                case .other:
                    notes.append(path + " (not a file: not put back)")
                }
            }
            for file in settings.keyed {
                let (path, keys) = (file.path, file.keys)
                guard let before = keyed[path] else { continue }
                let data = fileManager.regularFileContents(atPath: path, limit: Self.fileLimit)
                guard Self.values(of: keys, in: data) != before.keys || (data == nil) != (before.file == nil) else {
                    continue
                }
                notes.append(path + " (" + keys.joined(separator: ", ") + ")")
                Self.put(before, keys: keys, into: path, current: data)
            }
            return (Array(changed) + notes).sorted()
        }
    }

    /// Every guarded path that exists, and everything under the directories, by `lstat` (links are not followed);
    /// one `fstatat` per entry, since this runs around every session.
    private static func walk(_ roots: [String]) -> [String: Entry] {
        var entries: [String: Entry] = [:]
        var pending = roots
        while let path = pending.popLast(), entries.count < entryLimit {
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let entry = Self.entry(info)
            entries[path] = entry
            if entry.kind == .directory { pending += children(of: path) }
        }
        return entries
    }

    private static func entry(_ info: stat) -> Entry {
        let kind: Entry.Kind =
            switch info.st_mode & S_IFMT {
            case S_IFREG: .file
            case S_IFDIR: .directory
            case S_IFLNK: .link
            default: .other
            }
        return Entry(
            kind: kind,
            inode: UInt64(info.st_ino),
            size: Int(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            permissions: Int(info.st_mode & 0o7777)
        )
    }

    /// A directory's entries as paths, sorted (last first, for a walk that pops them in order).
    private static func children(of directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(directory + "/" + name) }
        }
        return names.sorted(by: >)
    }

    /// A regular file's bytes, up to ``fileLimit``, read without following a link.
    private static func contents(of path: String) -> Data? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while data.count <= fileLimit {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { return count == 0 ? data : nil }
            data.append(contentsOf: buffer[..<count])
        }
        return nil
    }

    /// The values of `keys` in a JSON object file, each as canonical JSON.
    private static func values(of keys: [String], in data: Data?) -> [String: Data] {
        guard let data, let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return [:]
        }
        var values: [String: Data] = [:]
        for key in keys {
            guard let value = object[key] else { continue }
            values[key] = try? JSONSerialization.data(
                withJSONObject: value,
                options: [.sortedKeys, .fragmentsAllowed]
            )
        }
        return values
    }

    /// Writes the guarded keys back into the file as it is now; the whole file as it was when it is no JSON object.
    private static func put(
        _ before: (keys: [String: Data], file: Data?),
        keys: [String],
        into path: String,
        current: Data?
    ) {
        guard let current, var object = (try? JSONSerialization.jsonObject(with: current)) as? [String: Any] else {
            if let file = before.file {
                _ = FileManager.default.createFile(atPath: path, contents: file, attributes: [.posixPermissions: 0o600])
            } else {
                try? FileManager.default.removeItem(atPath: path)
            }
            return
        }
        for key in keys {
            object[key] = before.keys[key].flatMap {
                try? JSONSerialization.jsonObject(with: $0, options: [.fragmentsAllowed])
            }
        }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
            try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }
}
