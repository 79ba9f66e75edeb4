import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaGit
import FlotillaStore
import FlotillaSystem
import Foundation

/// The composition root: the only place that reads the process environment and wires real adapters to ports.
package struct Composition: Sendable {
    package let environment: [String: String]
    package let processes: any ProcessRunner
    package let processTable: any ProcessTable
    /// The kill-at-a-point testing hook, when `FLOTILLA_CRASH_AT` asks for it.
    package let faultInjection: FaultInjection?

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        // Requests that carry a sandbox (agent sessions, verify runs) run in it; the rest (git) as they are.
        self.processes = ConfiningProcessRunner(
            base: SubprocessRunner(),
            bubblewrap: try? ExecutableLocator.locate(
                "bwrap",
                environment: EnvironmentPolicy().environment(from: environment),
                workingDirectory: "/"
            )
        )
        let faults = FaultInjection(environment: environment)
        self.faultInjection = faults
        self.processTable =
            faults.map { FaultInjectingProcessTable(base: LinuxProcessTable(), faults: $0) } ?? LinuxProcessTable()
    }

    /// What child processes inherit: the base allowlist plus names passed with `--pass-env`.
    package func childEnvironment(passing names: [String] = []) -> [String: String] {
        EnvironmentPolicy().allowing(names).environment(from: environment)
    }

    /// The API keys for work in `root`: the environment's, else the user's `config.toml`'s.
    package func apiKeys(root: String?) throws -> APIKeys {
        try Configuration.load(root: root, environment: environment).apiKeys(environment: environment)
    }

    /// The sandbox a mission's run gets on this machine: what it asked for, if the machine can give it.
    ///
    /// `auto` falls back to none when bubblewrap does not work here, and says why in ``SandboxSettings/note``; `bwrap`
    /// fails instead.
    package func sandbox(for spec: MissionSpec) async throws -> SandboxSettings {
        try await sandbox(spec.options, backend: spec.backend)
    }

    /// The sandbox `options` ask for, as ``sandbox(for:)`` resolves it, before any mission exists (the planner's).
    package func sandbox(_ options: MissionFields, backend: String) async throws -> SandboxSettings {
        let asked = options.sandbox ?? .auto
        var settings = SandboxSettings(
            mode: .none,
            network: options.network ?? Self.defaultNetwork(backend: backend),
            allowedHosts: options.allowHosts ?? [],
            verifyNetwork: options.verifyNetwork ?? .none,
            readable: options.sandboxRead ?? [],
            writable: options.sandboxWrite ?? []
        )
        if let home = environment["HOME"], !home.isEmpty {
            settings.toolSettings = ToolSettings.guarded(home: home, environment: environment)
        }
        settings.masked =
            (options.keyFiles ?? []).compactMap { try? Configuration.keyFile($0).path }
            + [Configuration.userFile(environment)].compactMap { $0 }
        if asked != .none {
            switch try await resolve(asked, flag: "--sandbox") {
            case (.bwrap, _): settings.mode = .bwrap
            case (_, let problem):
                settings.note =
                    "no sandbox: \(problem ?? "bubblewrap does not work here"); agents run as you "
                    + "(see docs/SECURITY.md)"
            }
        }
        if settings.mode == .none, options.network != nil && options.network != .open {
            settings.note =
                (settings.note.map { $0 + "; " } ?? "")
                + "--network \(options.network?.rawValue ?? "") needs the bwrap sandbox and is not applied"
        }
        return settings
    }

    /// `asked` as this machine can give it: `auto` is bubblewrap where it works, else none (with the reason); `bwrap`
    /// where it does not work fails, naming `flag`.
    package func resolve(_ asked: SandboxMode, flag: String) async throws -> (mode: SandboxMode, problem: String?) {
        guard asked != .none else { return (.none, nil) }
        let probe = await SandboxProbe.probe(runner: processes, environment: childEnvironment())
        if probe.bubblewrap != nil { return (.bwrap, nil) }
        let problem = probe.problem ?? "bubblewrap does not work here"
        if asked == .bwrap { throw FlotillaError.invalid("\(flag) bwrap: \(problem)") }
        return (.none, problem)
    }

    /// The agent CLIs get only their APIs; a custom command gets the network, since Flotilla cannot know its needs.
    package static func defaultNetwork(backend: String) -> NetworkAccess {
        switch backend {
        case "command": .open
        case "simulate": .none
        default: .allowlist
        }
    }

    package var isInteractiveTerminal: Bool {
        isatty(STDOUT_FILENO) == 1 && environment["CI"] == nil && environment["TERM"] != "dumb"
    }

    /// The repository to work in: `--repo`, else the one containing the current directory.
    package func repositoryRoot(_ path: String?) async throws -> String {
        let start =
            path.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? FileManager.default.currentDirectoryPath
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: start, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FlotillaError.invalid("--repo \(start) is not a directory")
        }
        guard
            let root = try await GitCLI.discoverRoot(from: start, runner: processes, environment: childEnvironment())
        else {
            throw FlotillaError.invalid(
                "\(start) is not inside a git repository; run `git init` there, or pass --repo PATH"
            )
        }
        return root
    }

    package func git(_ root: String) -> GitCLI {
        // The ssh agent, for `--push` to an ssh remote; agents never get it (their environment is built apart).
        GitCLI(root: root, runner: processes, environment: childEnvironment(passing: ["SSH_AUTH_SOCK"]))
    }
}
