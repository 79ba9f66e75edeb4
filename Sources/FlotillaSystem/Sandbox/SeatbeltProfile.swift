import FlotillaCore
import Foundation

/// The macOS design: a ``Confinement`` as a Seatbelt profile for `sandbox-exec -p PROFILE -- COMMAND`.
///
/// Not tested on a Mac (Flotilla's CI is Linux); the profile is built and checked as text here. What it gives: reads
/// everywhere but the home directory (except the tool's settings and what the confinement makes readable) and the
/// hidden directories; writes only to the writable paths and a private temporary directory; the network by policy
/// (`allowlist` allows only the loopback port of Flotilla's proxy, which the process reaches as `HTTPS_PROXY`). macOS has
/// no PID namespace: a session's processes are ended with its process group, as without a sandbox.
package enum SeatbeltProfile {
    /// - Parameters:
    ///   - confinement: What the process may see and reach.
    ///   - home: The real home directory.
    ///   - temporary: The process's private temporary directory (its `TMPDIR`).
    ///   - proxyPort: For `allowlist`: the loopback port of the proxy.
    /// - Returns: The profile text.
    package static func render(
        _ confinement: Confinement,
        home: String?,
        temporary: String,
        proxyPort: UInt16?
    ) -> String {
        func quoted(_ path: String) -> String {
            "\"" + path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        // Later rules win: deny broadly first, then allow back what the confinement lists.
        var lines = [
            "(version 1)",
            "(deny default)",
            "(allow process-exec process-fork signal sysctl-read mach-lookup ipc-posix-shm pseudo-tty)",
            "(allow file-read* file-test-existence)",
            "(allow file-write* (literal \"/dev/null\") (literal \"/dev/tty\") (regex #\"^/dev/fd/\"))",
        ]
        if let home { lines.append("(deny file-read* (subpath \(quoted(home))))") }
        lines.append("(deny file-read* (subpath \"/private/tmp\") (subpath \"/tmp\"))")
        func isHidden(_ path: String) -> Bool {
            confinement.hidden.contains { path == $0 || path.hasPrefix($0 + "/") }
        }
        // The repository readable, then its hidden state denied, then what is inside that state given back (the
        // prompt), as bubblewrap's mounts do.
        for path in confinement.readable where !isHidden(path) {
            lines.append("(allow file-read* (subpath \(quoted(path))))")
        }
        for hidden in confinement.hidden { lines.append("(deny file-read* file-write* (subpath \(quoted(hidden))))") }
        for path in confinement.readable where isHidden(path) {
            lines.append("(allow file-read* (subpath \(quoted(path))))")
        }
        for path in confinement.homeShares { lines.append("(allow file-read* file-write* (subpath \(quoted(path))))") }
        for path in confinement.writable + [temporary] {
            lines.append("(allow file-read* file-write* (subpath \(quoted(path))))")
        }
        switch confinement.network {
        case .open:
            lines.append("(allow network*)")
        case .allowlist:
            if let proxyPort {
                lines.append("(allow network-outbound (remote ip \"localhost:\(proxyPort)\"))")
            }
        case .none:
            break
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
