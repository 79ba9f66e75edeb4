import FlotillaCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension GitCLI {
    /// Settings that switch off every filter and merge driver the repository's configuration defines.
    ///
    /// Attributes in a tree pick drivers by name and the configuration says what they run; without a sandbox an agent
    /// can write that configuration, and a smudge filter could make a checkout show correct code for a commit that
    /// holds broken code. Flotilla's checkouts and merges are exactly the commit: filters are off, and a custom merge
    /// driver merges nothing (its file conflicts).
    ///
    /// The answer is kept while the configuration files it was read from, and those they include, are unchanged
    /// (same inode, size, modification and change times), so that a checkout does not cost a `git config` each time.
    func driverOverrides() async throws -> [String] {
        if let cached = drivers.current() { return cached }
        let common = GitDirectory.common(of: gitDirectory)
        let configurations = [common, gitDirectory].flatMap {
            [
                ($0 as NSString).appendingPathComponent("config"),
                ($0 as NSString).appendingPathComponent("config.worktree"),
            ]
        }
        // Taken before git reads them: a change made meanwhile makes the next call read again.
        let before = configurations.map { (path: $0, stamp: FileStamp($0)) }
        let result = try await run(
            ["config", "-z", "--show-origin", "--get-regexp", "^(filter|merge|include|includeif)\\."],
            check: false
        )
        var overrides: [String] = []
        var seen = Set<String>()
        var files = Set<String>()
        // With --show-origin -z: "file:PATH", then "KEY\nVALUE", for each entry.
        let fields = result.standardOutput.split(separator: "\0", omittingEmptySubsequences: false)
        for index in stride(from: 0, to: fields.count - 1, by: 2) {
            if fields[index].hasPrefix("file:") { files.insert(String(fields[index].dropFirst(5))) }
            let entry = fields[index + 1]
            let key = entry.prefix { $0 != "\n" }.lowercased()
            let value = entry.drop { $0 != "\n" }.dropFirst()
            if key.hasPrefix("include") {
                if key.hasSuffix(".path"), !value.isEmpty {
                    let path = String(value)
                    files.insert(path.hasPrefix("/") ? path : (common as NSString).appendingPathComponent(path))
                }
                continue
            }
            guard let first = key.firstIndex(of: "."), let last = key.lastIndex(of: "."), first < last else { continue }
            let section = key[..<first]
            let name = String(key[key.index(after: first)..<last])
            guard seen.insert("\(section).\(name)").inserted else { continue }
            if section == "filter" {
                for setting in ["clean=", "smudge=", "process=", "required=false"] {
                    overrides += ["-c", "filter.\(name).\(setting)"]
                }
            } else {
                overrides += ["-c", "merge.\(name).driver=false"]
            }
        }
        drivers.store(
            overrides,
            stamps: before + files.subtracting(configurations).sorted().map { (path: $0, stamp: FileStamp($0)) }
        )
        return overrides
    }
}

/// The drivers of one repository's configuration, with the files they were read from as they were then.
final class DriverCache: Sendable {
    private struct Entry {
        var overrides: [String]
        var stamps: [(path: String, stamp: FileStamp?)]
    }

    private let entry = Mutex<Entry?>(nil)

    /// The kept answer, if none of its files changed.
    func current() -> [String]? {
        guard let entry = entry.withLock({ $0 }) else { return nil }
        for (path, stamp) in entry.stamps where FileStamp(path) != stamp { return nil }
        return entry.overrides
    }

    func store(_ overrides: [String], stamps: [(path: String, stamp: FileStamp?)]) {
        entry.withLock { $0 = Entry(overrides: overrides, stamps: stamps) }
    }
}

/// What says a file changed: its inode, size, and modification and change times (the last cannot be set back).
struct FileStamp: Equatable {
    var inode: UInt64
    var size: Int64
    var modified: Int64
    var changed: Int64

    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
    }
}
