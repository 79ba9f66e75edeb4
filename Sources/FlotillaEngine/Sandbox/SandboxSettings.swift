import FlotillaCore
import Foundation

/// How a mission's agent sessions and verify runs are confined, as resolved when the run starts.
package struct SandboxSettings: Sendable, Equatable {
    /// `.bwrap` or `.none`: what this machine gives (``note`` says when that is less than was asked).
    package var mode: SandboxMode
    package var network: NetworkAccess
    /// Hosts the user added to the allowlist; each backend adds those its tool needs.
    package var allowedHosts: [String]
    package var verifyNetwork: NetworkAccess
    package var readable: [String]
    package var writable: [String]
    /// Files no confined process may read: the key files Flotilla reads keys from, and its configuration file.
    package var masked: [String] = []
    /// The agent CLIs' settings that are put back after every session (``SettingsWatch``).
    package var toolSettings: ToolSettings = .none
    /// Why the sandbox is not what was asked for (`auto` without a working bubblewrap), said when the run starts.
    package var note: String?

    package init(
        mode: SandboxMode,
        network: NetworkAccess = .open,
        allowedHosts: [String] = [],
        verifyNetwork: NetworkAccess = .none,
        readable: [String] = [],
        writable: [String] = [],
        note: String? = nil
    ) {
        self.mode = mode
        self.network = network
        self.allowedHosts = allowedHosts
        self.verifyNetwork = verifyNetwork
        self.readable = readable
        self.writable = writable
        self.note = note
    }

    /// No sandbox: processes run as the user (orphans are still ended).
    package static let none = SandboxSettings(mode: .none)

    /// For an agent session in `checkout`: that checkout writable, the prompt and the repository's objects (which its
    /// own repository reads) readable; the rest of the repository hidden — its `.git` (configuration, refs, hooks),
    /// Flotilla's `.flotilla/`, and the files of your working tree, committed or not (a `.env`, say).
    func session(checkout: String, promptFile: String, objects: String, layout: MissionLayout) -> Confinement {
        var confinement = Confinement(
            mode: mode,
            writable: [checkout] + writable,
            readable: [objects, promptFile] + readable,
            hidden: [layout.repository],
            network: network,
            allowedHosts: allowedHosts
        )
        confinement.masked = masked
        return confinement
    }

    /// For a verify run in `checkout`, writing its report in `reports`, reading `extra` (Flotilla's pytest plugin); the
    /// gate's own `fixed` files stay read-only.
    func verify(
        checkout: String,
        reports: String,
        objects: String,
        layout: MissionLayout,
        readable extra: [String] = [],
        fixed: [String] = []
    ) -> Confinement {
        var confinement = Confinement(
            mode: mode,
            writable: [checkout, reports] + writable,
            readable: [objects] + extra + readable,
            hidden: [layout.repository],
            network: verifyNetwork,
            allowedHosts: allowedHosts,
            fixed: fixed
        )
        confinement.masked = masked
        return confinement
    }

    /// For a model role's CLI (critic, reviewer, architect, objective check) in `repository`: the repository
    /// readable, its `.flotilla/` hidden, nothing of it writable; the tool's hosts only (each tool adds its own).
    package func role(repository: String) -> Confinement {
        var confinement = Confinement(
            mode: mode,
            writable: writable,
            readable: [repository] + readable,
            hidden: [(repository as NSString).appendingPathComponent(".flotilla")],
            network: .allowlist,
            allowedHosts: allowedHosts
        )
        confinement.masked = masked
        return confinement
    }

    /// What the ledger records for each attempt.
    package var summary: String {
        mode == .none
            ? "none" : "\(mode.rawValue), network \(network.rawValue), verify network \(verifyNetwork.rawValue)"
    }
}
