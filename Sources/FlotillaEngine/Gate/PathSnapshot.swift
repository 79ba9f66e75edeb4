import FlotillaCore
import Foundation

/// The programs on the verify's `PATH` as a mission found them, for a run without a sandbox.
///
/// Without a sandbox an agent can write where the user can, and the user's `PATH` often holds directories of theirs
/// (`~/.local/bin`, `~/.cargo/bin`): a `tr` or `python3` planted there would run inside the gate. Each verify run
/// compares the directories with this snapshot first, and a program added, replaced or removed stops the gate.
package struct PathSnapshot: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        let inode: UInt64
        let size: UInt64
        /// Nanoseconds since 1970.
        let modified: Int64
    }

    let directories: [String: [String: Entry]]

    /// The directories of `path` as they are now.
    package init(path: String) {
        var directories: [String: [String: Entry]] = [:]
        for directory in path.split(separator: ":").map(String.init) where directories[directory] == nil {
            directories[directory] = Self.entries(of: directory)
        }
        self.directories = directories
    }

    /// Each entry of `directory` with its inode, size and modification time (one `fstatat` each: a `PATH` holds a
    /// few thousand programs, and this runs before every verify run).
    static func entries(of directory: String) -> [String: Entry] {
        guard let handle = opendir(directory) else { return [:] }
        defer { closedir(handle) }
        var entries: [String: Entry] = [:]
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name != ".", name != ".." else { continue }
            var info = stat()
            guard fstatat(dirfd(handle), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            entries[name] = Entry(
                inode: UInt64(info.st_ino),
                size: UInt64(info.st_size),
                modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            )
        }
        return entries
    }

    /// The programs that changed since the snapshot, as paths ("~/.local/bin/tr added").
    package func changes() -> [String] {
        var changes: [String] = []
        for (directory, before) in directories.sorted(by: { $0.key < $1.key }) {
            let now = Self.entries(of: directory)
            for name in Set(before.keys).union(now.keys).sorted() where before[name] != now[name] {
                let path = (directory as NSString).appendingPathComponent(name)
                let how = before[name] == nil ? "added" : now[name] == nil ? "removed" : "replaced"
                changes.append("\(path) \(how)")
            }
        }
        return changes
    }
}
