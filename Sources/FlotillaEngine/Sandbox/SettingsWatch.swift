import FlotillaCore
import Foundation
import Synchronization

/// The guarded parts of the agent CLIs' settings (``ToolSettings``) as they were before a session, to put back after.
///
/// A hook, an MCP server or a plugin an agent plants in its tool's settings would run as the user in the next session
/// or model role; whatever a session changed there is undone when it ends, and the attempt's event names it.
package struct SettingsWatch: Sendable {
    enum Entry: Equatable, Sendable {
        case file(Data, permissions: Int)
        /// A file over ``fileLimit``: its change is seen (size, time) but cannot be put back.
        case large(size: Int, modified: Date?)
        case directory
        case link(String)
    }

    /// The most of one file kept to put back, and of all files together.
    static let fileLimit = 1 << 20
    static let totalLimit = 16 << 20
    /// The most paths read; past it, nothing the session added is removed (what was read is still put back).
    static let entryLimit = 10_000
    /// Restores of sessions that end together run one at a time.
    private static let restoring = Mutex(())

    let settings: ToolSettings
    private(set) var entries: [String: Entry] = [:]
    /// The guarded keys of each keyed file, as canonical JSON (absent keys missing), and the file itself.
    private var keyed: [String: (keys: [String: Data], file: Data?)] = [:]

    /// What `settings` guards now.
    package static func capture(_ settings: SandboxSettings) -> SettingsWatch? {
        let guarded = settings.toolSettings
        guard guarded != .none else { return nil }
        var watch = SettingsWatch(settings: guarded)
        watch.entries = Self.read(guarded.paths)
        for file in guarded.keyed {
            let data = FileManager.default.regularFileContents(atPath: file.path, limit: Self.fileLimit)
            watch.keyed[file.path] = (Self.values(of: file.keys, in: data), data)
        }
        return watch
    }

    /// Puts back what changed since the capture; gives the paths that changed, sorted.
    ///
    /// Files and directories added are removed, changed or removed ones written back, guarded keys restored; a path
    /// that could not be put back is noted so.
    package func restore() -> [String] {
        Self.restoring.withLock { _ in
            var changed: [String] = []
            let now = Self.read(settings.paths)
            let fileManager = FileManager.default
            let complete = entries.count < Self.entryLimit && now.count < Self.entryLimit
            if !complete { changed.append("(more than \(Self.entryLimit) guarded paths: additions are not removed)") }
            // Added, or no longer of the same kind: removed, deepest first.
            for path in now.keys.sorted(by: >) where complete && entries[path] != now[path] {
                if case .large = now[path], case .large = entries[path] { continue }
                if case .directory = now[path], case .directory = entries[path] { continue }
                try? fileManager.removeItem(atPath: path)
                changed.append(path)
            }
            // Changed or removed: written back, parents first.
            for (path, entry) in entries.sorted(by: { $0.key < $1.key }) where now[path] != entry {
                if case .large = entry {
                    changed.append(path + " (too large to put back)")
                    continue
                }
                if !changed.contains(path) { changed.append(path) }
                switch entry {
                case .directory:
                    try? fileManager.createDirectory(atPath: path, withIntermediateDirectories: true)
                case .file(let data, let permissions):
                    try? fileManager.createDirectory(
                        atPath: (path as NSString).deletingLastPathComponent,
                        withIntermediateDirectories: true
                    )
                    _ = fileManager.createFile(
                        atPath: path,
                        contents: data,
                        attributes: [.posixPermissions: permissions]
                    )
                case .link(let destination):
                    try? fileManager.createSymbolicLink(atPath: path, withDestinationPath: destination)
                case .large:
                    break
                }
            }
            for file in settings.keyed {
                let (path, keys) = (file.path, file.keys)
                guard let before = keyed[path] else { continue }
                let data = fileManager.regularFileContents(atPath: path, limit: Self.fileLimit)
                guard Self.values(of: keys, in: data) != before.keys || (data == nil) != (before.file == nil) else {
                    continue
                }
                changed.append(path + " (" + keys.joined(separator: ", ") + ")")
                Self.put(before, keys: keys, into: path, current: data)
            }
            return changed.sorted()
        }
    }

    /// Every guarded path that exists, and everything under the directories, by `lstat` (links are not followed).
    private static func read(_ roots: [String]) -> [String: Entry] {
        var entries: [String: Entry] = [:]
        var total = 0
        var pending = roots
        while let path = pending.popLast(), entries.count < entryLimit {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                let type = attributes[.type] as? FileAttributeType
            else { continue }
            switch type {
            case .typeDirectory:
                entries[path] = .directory
                let children = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                pending += children.sorted(by: >).map { path + "/" + $0 }
            case .typeSymbolicLink:
                entries[path] = .link((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "")
            default:
                let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
                let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o600
                if size <= fileLimit && total + size <= totalLimit,
                    let data = FileManager.default.regularFileContents(atPath: path, limit: fileLimit)
                {
                    total += data.count
                    entries[path] = .file(data, permissions: permissions)
                } else {
                    entries[path] = .large(size: size, modified: attributes[.modificationDate] as? Date)
                }
            }
        }
        return entries
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
