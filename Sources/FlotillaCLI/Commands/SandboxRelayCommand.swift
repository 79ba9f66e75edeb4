import ArgumentParser
import FlotillaSystem
import Foundation

extension Flotilla {
    /// Runs inside a sandbox with the `allowlist` network policy; Flotilla starts it, people do not.
    struct SandboxRelayCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sandbox-relay",
            abstract: "Inside a sandbox: relay loopback connections to Flotilla's network proxy, then run COMMAND.",
            shouldDisplay: false
        )

        @Option(help: "The proxy's Unix socket, as the sandbox sees it.")
        var socket: String

        @Option(help: "The loopback port HTTP_PROXY names.")
        var port: UInt16

        @Option(help: "A loopback port of an allowed local server, tunnelled to the same port outside (repeatable).")
        var forward: [UInt16] = []

        @Argument(parsing: .captureForPassthrough, help: "The command, after --.")
        var command: [String] = []

        func run() throws {
            let arguments = command.first == "--" ? Array(command.dropFirst()) : command
            guard !arguments.isEmpty else { throw ValidationError("give the command to run after --") }
            let status = try SandboxRelay.run(
                SandboxRelay.Configuration(socketPath: socket, proxyPort: port, forwards: forward, command: arguments)
            )
            // The command's own status, as it is, with nothing printed.
            Foundation.exit(status)
        }
    }
}
