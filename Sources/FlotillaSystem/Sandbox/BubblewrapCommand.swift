import FlotillaCore
import Foundation
import Synchronization

/// A ``Confinement`` as bubblewrap's arguments.
///
/// In order: the whole system read-only; fresh `/dev`, `/proc` and `/tmp`; an empty home directory; what the
/// confinement makes readable (the repository, the tool, the prompt); the hidden directories (`.flotilla/`) replaced
/// by empty ones; the tool's own settings directories; and last the writable checkout. The process runs as the same
/// user in a new user, PID and IPC namespace with no capabilities, dies with bubblewrap, and bubblewrap dies with
/// Flotilla; without `open` network it has a network namespace of its own with only loopback.
package enum BubblewrapCommand {
    /// Where the start signal appears inside the sandbox (`/tmp` there is the sandbox's own): a FIFO the first process
    /// reads before it runs the command, once Flotilla has made the sandbox's network listeners.
    package static let startSignalInside = "/tmp/.flotilla-start"

    /// Sockets of the machine that would hand out more than a sandbox should have, hidden even when visible paths
    /// lead to them.
    static let hiddenSockets = [
        "/run/docker.sock", "/var/run/docker.sock", "/run/containerd/containerd.sock", "/run/podman/podman.sock",
        "/run/snapd.socket", "/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket",
    ]

    /// The arguments before `--` and the command.
    ///
    /// - Parameters:
    ///   - confinement: What the process may see and reach.
    ///   - workingDirectory: Where it starts.
    ///   - environment: Its environment (for `HOME` and `PATH`).
    ///   - startSignal: The start signal's FIFO outside, for the `allowlist` policy.
    ///   - exists: Whether a path exists on this machine (a parameter, so the arguments can be tested anywhere).
    ///   - listing: What a directory holds (for the installations of tools on `PATH`).
    ///   - linkTarget: Where a symbolic link leads, resolved; nil for what is no link.
    /// - Returns: bubblewrap's arguments.
    package static func arguments(
        for confinement: Confinement,
        workingDirectory: String,
        environment: [String: String],
        startSignal: String?,
        exists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) },
        listing: (String) -> [String] = ToolchainLookups.contents,
        linkTarget: (String) -> String? = ToolchainLookups.resolvedLink
    ) -> [String] {
        var arguments = [
            "--die-with-parent", "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--cap-drop", "ALL", "--hostname", "flotilla-sandbox",
        ]
        if confinement.network != .open { arguments.append("--unshare-net") }
        arguments += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for socket in hiddenSockets where exists(socket) { arguments += ["--ro-bind", "/dev/null", socket] }
        if exists("/run/user") { arguments += ["--tmpfs", "/run/user"] }
        // Where containers and orchestrators mount secrets.
        for directory in secretDirectories where exists(directory) { arguments += ["--tmpfs", directory] }

        let home = environment["HOME"].flatMap { $0.isEmpty || $0 == "/" ? nil : normalized($0) }
        if let home, exists(home) { arguments += ["--tmpfs", home] }
        var readable = confinement.readable.map(normalized)
        if let home {
            readable += toolchainDirectories(
                path: environment["PATH"] ?? "",
                home: home,
                environment: environment,
                listing: listing,
                linkTarget: linkTarget
            )
        }
        let hidden = confinement.hidden.map(normalized).filter(exists)
        func isHidden(_ path: String) -> Bool { hidden.contains { path == $0 || path.hasPrefix($0 + "/") } }
        // What is readable outside the hidden directories first, so that hiding them takes effect over it.
        for path in unique(readable.filter { !isHidden($0) }) { arguments += ["--ro-bind-try", path, path] }
        for path in hidden { arguments += ["--tmpfs", path] }
        for path in unique(readable.filter(isHidden)) { arguments += ["--ro-bind-try", path, path] }
        for path in unique(confinement.homeShares.map(normalized)) { arguments += ["--bind-try", path, path] }
        for path in unique(confinement.writable.map(normalized)) { arguments += ["--bind", path, path] }
        // Files of the writable paths that stay as they are (the gate's own, while it runs): bound over themselves,
        // read-only.
        for path in unique(confinement.fixed.map(normalized)) where exists(path) {
            arguments += ["--ro-bind", path, path]
        }
        // Files no session may read wherever they are (key files): an empty file over each.
        for path in unique(confinement.masked.map(normalized)) where exists(path) {
            arguments += ["--ro-bind", "/dev/null", path]
        }
        // What hides a directory is an empty one, and it stays empty: read-only once the writable paths inside it exist
        // (unless a writable path the user gave holds it, which shows it again).
        let writable = confinement.writable.map(normalized)
        for path in hidden where !writable.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) {
            arguments += ["--remount-ro", path]
        }
        if let startSignal { arguments += ["--ro-bind", startSignal, startSignalInside] }
        arguments += ["--chdir", workingDirectory]
        return arguments
    }

    /// Directories where containers and orchestrators mount secrets (Docker and Kubernetes `/run/secrets`).
    static let secretDirectories = ["/run/secrets", "/var/run/secrets"]

    /// What an installation beside a `bin` or `shims` directory may show: its programs, libraries and toolchains.
    ///
    /// Never the rest (`~/.cargo/credentials.toml`, `~/.local/share/*/auth.json`). `version` is pyenv's global choice.
    static let installationParts: Set<String> = [
        "bin", "lib", "lib64", "libexec", "include", "versions", "toolchains", "shims", "plugins", "registry", "git",
        "version", "completions", "pyenv.d",
    ]

    /// The most links of one `PATH` directory followed to their installations.
    static let linkLimit = 1000

    /// What tools on `PATH` inside the home directory need, which would vanish with it.
    ///
    /// Those are tools installed for the user (`~/.local/bin`, `~/.nvm/versions/node/v20/bin`, `~/.pyenv/shims`). The
    /// directory is shown; for a `bin` or `shims` directory, the parts of its installation that hold programs and
    /// libraries (``installationParts``), never the installation whole. A link in the directory to a program elsewhere
    /// in the home directory shows that program's installation (a pipx virtual environment); `~/.cargo/bin` shows
    /// rustup's toolchains.
    static func toolchainDirectories(
        path: String,
        home: String,
        environment: [String: String] = [:],
        listing: (String) -> [String] = { _ in [] },
        linkTarget: (String) -> String? = { _ in nil }
    ) -> [String] {
        var shown: [String] = []
        for entry in path.split(separator: ":") {
            let directory = normalized(String(entry))
            guard directory.hasPrefix(home + "/") else { continue }
            shown.append(directory)
            let name = (directory as NSString).lastPathComponent
            let parent = (directory as NSString).deletingLastPathComponent
            if (name == "bin" || name == "shims") && parent != home {
                shown += listing(parent).filter { installationParts.contains($0) && $0 != name }.sorted().map {
                    parent + "/" + $0
                }
            }
            if directory == home + "/.cargo/bin" { shown.append(environment["RUSTUP_HOME"] ?? home + "/.rustup") }
            for program in listing(directory).sorted().prefix(linkLimit) {
                guard let target = linkTarget(directory + "/" + program), target.hasPrefix(home + "/"),
                    !shown.contains(where: { target.hasPrefix($0 + "/") })
                else { continue }
                // `venvs/tool/bin/tool`: the virtual environment; else the program's own directory.
                let holder = (target as NSString).deletingLastPathComponent
                let installation =
                    (holder as NSString).lastPathComponent == "bin"
                    ? (holder as NSString).deletingLastPathComponent : holder
                if installation != home && installation.hasPrefix(home + "/") { shown.append(installation) }
            }
        }
        // A directory inside another one shown is shown with it: one mount fewer.
        return shown.filter { path in !shown.contains { path.hasPrefix($0 + "/") } }
    }

    private static func normalized(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    private static func unique(_ paths: [String]) -> [String] {
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }
}

/// The directory listings and links `PATH` entries under the home directory need, read once per process: every
/// confined process of a run has the same `PATH`, and a run's tools do not move while it runs (measured: the 136
/// shims of a pyenv installation cost about 1 ms per sandbox, read each time).
package enum ToolchainLookups {
    private static let listings = Mutex<[String: [String]]>([:])
    private static let links = Mutex<[String: String?]>([:])

    package static func contents(_ path: String) -> [String] {
        if let known = listings.withLock({ $0[path] }) { return known }
        let read = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        listings.withLock { $0[path] = read }
        return read
    }

    /// Where a symbolic link leads, with every link on the way resolved; nil for what is no link.
    package static func resolvedLink(_ path: String) -> String? {
        if let known = links.withLock({ $0[path] }) { return known }
        var target: String?
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil {
            target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        }
        links.withLock { $0[path] = target }
        return target
    }
}
