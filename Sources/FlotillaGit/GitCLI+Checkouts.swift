import FlotillaCore
import Foundation

/// Flotilla's checkouts: plain directories (an agent's slot, a gate's checkout, the staging of landings) whose index
/// Flotilla keeps elsewhere, out of agents' reach.
///
/// No checkout is a git worktree of the repository: an agent never sees a `.git` that leads to it, and whatever an
/// agent does to the files, the commands here only read them through Flotilla's own index and git directory.
extension GitCLI {
    package func checkout(_ commit: String, into directory: String, index: String) async throws {
        do {
            try await update(directory, to: commit, index: index)
        } catch {
            // An index or a directory in a state git refuses (a file made unreadable, an index an agent wrote in a
            // run without a sandbox): start over from nothing.
            try removeCheckout(directory, index: index)
            try await update(directory, to: commit, index: index)
        }
    }

    package func checkoutVerified(_ commit: String, into directory: String, index: String) async throws -> [String] {
        // A fresh index: every file is written from its object, whatever bits an agent set in the last one.
        try? FileManager.default.removeItem(atPath: index)
        try await checkout(commit, into: directory, index: index)
        return try await altered(commit, in: directory)
    }

    /// The regular files of `commit` whose contents in `directory` do not hash to the ids the commit names.
    func altered(_ commit: String, in directory: String) async throws -> [String] {
        let listing = try await run(["ls-tree", "-r", "-z", "--full-tree", commit], complete: true).standardOutput
        var expected: [(path: String, id: String)] = []
        for entry in listing.split(separator: "\0") {
            // "MODE TYPE ID\tPATH"; links and submodules are not files to hash.
            guard let tab = entry.firstIndex(of: "\t") else { continue }
            let fields = entry[..<tab].split(separator: " ")
            let path = String(entry[entry.index(after: tab)...])
            guard fields.count == 3, fields[0] == "100644" || fields[0] == "100755", !path.contains("\n") else {
                continue
            }
            expected.append((path, String(fields[2])))
        }
        guard !expected.isEmpty else { return [] }
        let hashed = try await run(
            ["hash-object", "--no-filters", "--stdin-paths"],
            in: directory,
            input: expected.map { $0.path + "\n" }.joined(),
            complete: true
        ).standardOutput.split(separator: "\n").map(String.init)
        guard hashed.count == expected.count else { return expected.map(\.path) }
        return zip(expected, hashed).filter { $0.0.id != $0.1 }.map(\.0.path)
    }

    private func update(_ directory: String, to commit: String, index: String) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            atPath: (index as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        // Whatever stands at `.git` is the last agent's (git's walks skip the name): it goes first, unless it is the
        // repository Flotilla made, untouched, which ``prepareOwnRepository(in:at:index:objects:)`` refreshes.
        let repository = (directory as NSString).appendingPathComponent(".git")
        if !Self.isPristine(repository) { try Self.forceRemove(repository) }
        // From the index's state to the commit's, overwriting whatever changed; files that became directories or
        // symbolic links are replaced, never followed.
        try await run(
            ["read-tree", "--reset", "-u", commit],
            workTree: directory,
            index: index,
            settings: try await driverOverrides()
        )
        try await run(["clean", "-ffdxq"], workTree: directory, index: index)
    }

    package func snapshot(
        _ directory: String,
        index: String,
        parent: String,
        message: String,
        author: GitIdentity
    ) async throws -> String? {
        try await run(["add", "--all"], workTree: directory, index: index, settings: try await driverOverrides())
        let tree = try await run(["write-tree"], index: index).standardOutput.trimmingWhitespace()
        if tree == (try await self.tree(of: parent)) { return nil }
        return try await commitTree(tree, parents: [parent], message: message, author: author)
    }

    package func prepareOwnRepository(in directory: String, at commit: String, index: String, objects: String) throws {
        let repository = (directory as NSString).appendingPathComponent(".git")
        let manager = FileManager.default
        // A repository left as Flotilla made it (the agent ran no git that wrote, or none at all) is refreshed in
        // place; anything else is made again. Creating files after deleting them is what costs on ext4.
        if !Self.isPristine(repository) {
            try Self.forceRemove(repository)
            for folder in ["objects/info", "refs"] {
                try manager.createDirectory(
                    atPath: (repository as NSString).appendingPathComponent(folder),
                    withIntermediateDirectories: true
                )
            }
        }
        var files: [(String, Data)] = [
            ("HEAD", Data((commit + "\n").utf8)),
            ("objects/info/alternates", Data((objects + "\n").utf8)),
            ("config", Data(Self.ownConfiguration.utf8)),
        ]
        // Flotilla's index of the fresh checkout: the agent's `git status` starts clean, with nothing to rehash.
        if let data = manager.regularFileContents(atPath: index, limit: 1 << 30) { files.append(("index", data)) }
        for (name, contents) in files {
            try Self.overwrite((repository as NSString).appendingPathComponent(name), with: contents)
        }
    }

    static let ownConfiguration = """
        [core]
        \trepositoryformatversion = 0
        \tfilemode = true
        \tbare = false
        \tlogallrefupdates = false
        [user]
        \tname = Flotilla agent
        \temail = agent@flotilla.localhost

        """

    /// Whether `repository` holds exactly what ``prepareOwnRepository(in:at:index:objects:)`` writes: nothing an agent added
    /// (hooks, objects, refs, settings) and nothing that is not a plain file or directory.
    static func isPristine(_ repository: String) -> Bool {
        let manager = FileManager.default
        func entries(_ path: String, type: FileAttributeType = .typeDirectory) -> Set<String>? {
            guard (try? manager.attributesOfItem(atPath: path))?[.type] as? FileAttributeType == type else {
                return nil
            }
            return (try? manager.contentsOfDirectory(atPath: path)).map(Set.init)
        }
        func isFile(_ path: String) -> Bool {
            (try? manager.attributesOfItem(atPath: path))?[.type] as? FileAttributeType == .typeRegular
        }
        func join(_ name: String) -> String { (repository as NSString).appendingPathComponent(name) }
        guard let top = entries(repository), top.isSubset(of: ["HEAD", "config", "objects", "refs", "index"]),
            entries(join("objects")) == ["info"], entries(join("objects/info")) == ["alternates"],
            entries(join("refs")) == [], isFile(join("objects/info/alternates"))
        else { return false }
        return top.subtracting(["objects", "refs"]).allSatisfy { isFile(join($0)) }
    }

    /// Writes `contents` over a regular file in place (no new inode), or creates it.
    private static func overwrite(_ path: String, with contents: Data) throws {
        if let handle = FileHandle(forWritingAtPath: path) {
            defer { try? handle.close() }
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: contents)
        } else if !FileManager.default.createFile(atPath: path, contents: contents) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    package func tree(_ tree: String, restoring paths: [String], from source: String) async throws -> String {
        guard !paths.isEmpty else { return tree }
        let scratch = NSTemporaryDirectory() + "/flotilla-index-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try await run(["read-tree", tree], index: scratch)
        // Whatever stands at those paths goes (a file, or a directory made of one), then the source's entries.
        let present = try await run(["ls-files", "-z", "--"] + paths, index: scratch).standardOutput
            .split(separator: "\0").map(String.init)
        if !present.isEmpty { try await run(["update-index", "--force-remove", "--"] + present, index: scratch) }
        let entries = try await run(["ls-tree", "-r", "-z", "--full-tree", source, "--"] + paths, complete: true)
            .standardOutput
        if !entries.isEmpty { try await run(["update-index", "-z", "--index-info"], index: scratch, input: entries) }
        return try await run(["write-tree"], index: scratch).standardOutput.trimmingWhitespace()
    }

    package func removeCheckout(_ directory: String, index: String) throws {
        try Self.forceRemove(directory)
        try Self.forceRemove(index)
    }

    /// Removes a file or a directory tree whatever its permissions say; symbolic links are removed, never followed.
    static func forceRemove(_ path: String) throws {
        let manager = FileManager.default
        guard (try? manager.attributesOfItem(atPath: path)) != nil else { return }
        if (try? manager.removeItem(atPath: path)) != nil { return }
        // A directory an agent made unwritable or unreadable: give every directory back to its owner, then remove.
        makeDirectoriesWritable(path)
        try manager.removeItem(atPath: path)
    }

    private static func makeDirectoriesWritable(_ path: String) {
        let manager = FileManager.default
        guard let attributes = try? manager.attributesOfItem(atPath: path),
            attributes[.type] as? FileAttributeType == .typeDirectory
        else { return }
        try? manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        for name in (try? manager.contentsOfDirectory(atPath: path)) ?? [] {
            makeDirectoriesWritable((path as NSString).appendingPathComponent(name))
        }
    }
}
