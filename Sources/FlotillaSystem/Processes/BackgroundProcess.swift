import CFlotillaSystem
import FlotillaCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Starts a process that outlives this one: its own session, no terminal, output to a log file.
package enum BackgroundProcess {
    /// Launches `executable` and returns its pid without waiting for it.
    package static func launch(
        executable: String,
        arguments: [String],
        environment: [String: String],
        directory: String,
        logPath: String
    ) throws -> Int32 {
        try FileManager.default.createDirectory(
            atPath: (logPath as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = flotilla_spawn_detached(executable, argv, envp, directory, logPath, &pid)
        guard result == 0 else { throw ProcessRunnerError.system("starting \(executable) in the background", result) }
        // A long-lived parent (the daemon) must collect its exit status, or it lingers as a zombie.
        let child = pid
        Thread {
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        }.start()
        return child
    }
}
