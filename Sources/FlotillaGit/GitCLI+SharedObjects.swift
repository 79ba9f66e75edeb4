import FlotillaCore
import Foundation
import Synchronization

/// The objects a sandboxed checkout's own repository reads: a bare store Flotilla fills with what is reachable from
/// the commits it checks out, and nothing else.
///
/// Borrowing the repository's own object directory would hand every session whatever it holds: the blob of a `.env`
/// staged once and never committed, the commits of branches the mission has nothing to do with. The store is filled
/// by a local push of each commit a checkout starts from (only the objects the store lacks travel), so it holds the
/// base's history, the target's landings and the attempts' commits.
extension GitCLI {
    /// The bare repository the shared objects live in, beside the repository's own git directory's contents.
    var sharedStore: String {
        (GitDirectory.common(of: gitDirectory) as NSString).appendingPathComponent("flotilla/shared.git")
    }

    package var sharedObjectsDirectory: String { (sharedStore as NSString).appendingPathComponent("objects") }

    package func share(_ commit: String) async throws {
        guard !shared.contains(commit) else { return }
        let store = sharedStore
        let manager = FileManager.default
        if !manager.fileExists(atPath: (store as NSString).appendingPathComponent("HEAD")) {
            try manager.createDirectory(atPath: store, withIntermediateDirectories: true)
            try await run(["--git-dir", store, "init", "--quiet", "--bare"], in: store)
        }
        // One ref per shared commit keeps its objects and tells the next push what the store already has. A local
        // push is a `file` transport, which the commands' settings otherwise forbid.
        let pushed = try await run(
            ["push", "--quiet", "--no-verify", store, "\(commit):refs/shared/\(commit)"],
            settings: ["-c", "protocol.file.allow=always", "-c", "receive.autogc=false"],
            check: false
        )
        // Another mission may have shared the same commit at the same moment: its ref is as good as ours.
        if !pushed.termination.isSuccess {
            let present = try await run(
                ["--git-dir", store, "rev-parse", "--verify", "--quiet", "refs/shared/\(commit)"],
                check: false
            )
            guard present.termination.isSuccess else {
                throw GitError(arguments: ["push", store, commit], result: pushed)
            }
        }
        shared.insert(commit)
    }
}

/// The commits this process already put in the shared store (a commit's objects never change).
final class SharedCommits: Sendable {
    private let commits = Mutex<Set<String>>([])

    func contains(_ commit: String) -> Bool { commits.withLock { $0.contains(commit) } }

    func insert(_ commit: String) { _ = commits.withLock { $0.insert(commit) } }
}
