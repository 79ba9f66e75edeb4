import FlotillaCore
import FlotillaSystem
import Foundation

/// Whether bubblewrap works on this machine, as Flotilla's `--sandbox auto` would find (CI installs it): for tests of
/// what only the sandbox guarantees.
package enum SandboxAvailability {
    package static let bubblewrap: Bool = {
        let environment = FixtureRepository.environment
        guard let executable = try? ExecutableLocator.locate("bwrap", environment: environment, workingDirectory: "/")
        else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments =
            BubblewrapCommand.arguments(
                for: Confinement(mode: .bwrap, network: .none),
                workingDirectory: "/",
                environment: environment,
                startSignal: nil
            ) + ["--", "/bin/sh", "-c", "exit 0"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()
}
