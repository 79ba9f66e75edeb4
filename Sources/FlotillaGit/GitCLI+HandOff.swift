import FlotillaCore
import Foundation

/// Handing verified work over: pushes with a lease, and the user's working tree brought along after `land`.
extension GitCLI {
    package func push(
        _ commit: String,
        to remote: String,
        branch: String,
        expecting expected: String?
    ) async throws
        -> PushOutcome
    {
        let ref = "refs/heads/\(branch)"
        // An empty expected value means "the remote must not have this branch yet".
        // Flotilla's git reaches no transport but here; here the usual ones, never `ext::` (a command line).
        let transports = ["file", "ssh", "https", "http", "git"].flatMap { ["-c", "protocol.\($0).allow=always"] }
        let result = try await run(
            ["push", "--porcelain", "--force-with-lease=\(ref):\(expected ?? "")", remote, "\(commit):\(ref)"],
            settings: transports,
            check: false
        )
        if result.termination.isSuccess { return .pushed }
        let said = (result.standardOutput + "\n" + result.standardError)
            .split(separator: "\n").map { String($0).trimmingWhitespace() }
            .filter { !$0.isEmpty && $0 != "Done" && !$0.hasPrefix("To ") }
        return .refused(said.suffix(3).joined(separator: " / "))
    }

    package func advanceWorkingTree(from old: String, to new: String) async throws {
        try await run(["read-tree", "-m", "-u", old, new], workTree: root)
    }
}
