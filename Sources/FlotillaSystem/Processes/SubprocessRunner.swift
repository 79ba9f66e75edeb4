import CFlotillaSystem
import FlotillaCore
import Foundation
import Subprocess

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The real ``ProcessRunner``: swift-subprocess spawns each child as the leader of a new session (so its
/// process group holds everything it forks), and a teardown sequence sends SIGTERM, then SIGKILL, to that group.
///
/// Output goes through pipes that this runner drains itself rather than through swift-subprocess's collected
/// output: that lets it cap what is kept, stream to a transcript file, and read to the real end of the output
/// after the leader exits (the group is ended first, so a forgotten grandchild cannot hold the pipe open).
package struct SubprocessRunner: ProcessRunner {
    private let clock: any Clock<Duration>

    package init(clock: any Clock<Duration> = ContinuousClock()) {
        self.clock = clock
    }

    package func run(_ request: ProcessRequest) async throws -> ProcessResult {
        let executable = try ExecutableLocator.locate(
            request.executable,
            environment: request.environment,
            workingDirectory: request.workingDirectory
        )
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: request.workingDirectory, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw ProcessRunnerError.workingDirectoryMissing(request.workingDirectory)
        }

        let collector = try OutputCollector(request: request)
        let input = try InputSource.open(request.standardInput)
        let stdoutPipe: (read: CInt, write: CInt)
        let stderrPipe: (read: CInt, write: CInt)
        do {
            stdoutPipe = try makePipe()
            stderrPipe = try makePipe()
        } catch {
            close(input)
            throw error
        }
        let started = ContinuousClock.now
        let drains = [
            PipeDrain(fileDescriptor: stdoutPipe.read, stream: .standardOutput, collector: collector),
            PipeDrain(fileDescriptor: stderrPipe.read, stream: .standardError, collector: collector),
        ]
        for drain in drains { drain.start() }

        let exit: (status: TerminationStatus, processID: pid_t, timedOut: Bool)
        do {
            exit = try await runToExit(
                executable: executable,
                request: request,
                input: input,
                stdoutWrite: stdoutPipe.write,
                stderrWrite: stderrPipe.write
            )
        } catch {
            for drain in drains { drain.abandon() }
            _ = await finished(drains, within: .seconds(2))
            collector.finish()
            throw ProcessRunnerError.launchFailed(executable: request.executable, detail: "\(error)")
        }

        // The leader is gone (reaped: its number is free unless its group lives on); whatever it left running in
        // its group is ended so that the pipes reach their end. Never by the bare number: on a busy machine it may
        // already be another session leader's. These waits ignore cancellation: a cancelled caller still gets a
        // process group that is really gone.
        ProcessLiveness.signalLeftovers(ofGroup: exit.processID, SIGTERM)
        let drained = await finished(drains, within: request.terminationGrace)
        // Even when the pipes ended, a leftover that closed them and ignores SIGTERM may remain in the group.
        ProcessLiveness.signalLeftovers(ofGroup: exit.processID, SIGKILL)
        if !drained, await !finished(drains, within: .seconds(1)) {
            // Only a process that left the group (setsid) can still hold the pipe: stop reading.
            for drain in drains { drain.abandon() }
            _ = await finished(drains, within: .seconds(2))
        }

        let termination: Termination =
            switch exit.status {
            case .exited(let code): .exited(code)
            case .signaled(let signal): .signaled(signal)
            }
        return collector.result(
            termination: termination,
            timedOut: exit.timedOut,
            duration: ContinuousClock.now - started
        )
    }

    /// Runs the process until it exits, tearing its group down when the timeout expires or the task is cancelled.
    private func runToExit(
        executable: String,
        request: ProcessRequest,
        input: CInt,
        stdoutWrite: CInt,
        stderrWrite: CInt
    ) async throws -> (status: TerminationStatus, processID: pid_t, timedOut: Bool) {
        var options = PlatformOptions()
        options.createSession = true
        options.teardownSequence = [
            .send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: request.terminationGrace)
        ]
        var environment: [Environment.Key: String] = [:]
        for (name, value) in request.environment {
            if let key = Environment.Key(rawValue: name) { environment[key] = value }
        }
        let configuration = Configuration(
            executable: .path(FilePath(executable)),
            arguments: Arguments(request.arguments),
            environment: .custom(environment),
            workingDirectory: FilePath(request.workingDirectory),
            platformOptions: options
        )
        let timeout = request.timeout
        let clock = self.clock
        enum Finish: Sendable {
            case exited(TerminationStatus, pid_t)
            case timedOut
        }
        return try await withThrowingTaskGroup(of: Finish.self) { group in
            let tracker = ProcessTracking.current
            group.addTask {
                // Registered as this process's own child as soon as it exists, so no sweep takes it for an orphan.
                let spawn = ChildRegistry.shared.beginSpawn()
                defer { spawn.end() }
                let result = try await Subprocess.run(
                    configuration,
                    input: .fileDescriptor(FileDescriptor(rawValue: input), closeAfterSpawningProcess: true),
                    output: .fileDescriptor(FileDescriptor(rawValue: stdoutWrite), closeAfterSpawningProcess: true),
                    error: .fileDescriptor(FileDescriptor(rawValue: stderrWrite), closeAfterSpawningProcess: true)
                ) { execution in
                    spawn.register(execution.processIdentifier.value)
                    // Recorded as soon as it runs, so that a crash of this process leaves a trace of its children.
                    let identity = LinuxProcessTable.identity(of: execution.processIdentifier.value)
                    tracker?.started(identity, request: request)
                    return identity
                }
                if let identity = result.closureResult { tracker?.ended(identity) }
                return .exited(result.terminationStatus, result.processIdentifier.value)
            }
            if let timeout {
                group.addTask {
                    try await clock.sleep(for: timeout)
                    return .timedOut
                }
            }
            var timedOut = false
            while let finish = try await group.next() {
                switch finish {
                case .exited(let status, let processID):
                    group.cancelAll()
                    return (status, processID, timedOut)
                case .timedOut:
                    timedOut = true
                    // Cancelling the run makes swift-subprocess run the teardown sequence on the group.
                    group.cancelAll()
                }
            }
            throw CancellationError()
        }
    }

    /// Whether every drain reached the end of its pipe within `limit`, cancelled or not.
    private func finished(_ drains: [PipeDrain], within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        for drain in drains {
            let remaining = deadline - ContinuousClock.now
            if await !drain.finished.wait(timeout: remaining > .zero ? remaining : .zero) { return false }
        }
        return true
    }

    private func makePipe() throws -> (read: CInt, write: CInt) {
        var fds: [CInt] = [-1, -1]
        // Close-on-exec keeps these ends out of every other child spawned meanwhile; the child gets its copy by dup2.
        guard flotilla_pipe_cloexec(&fds) == 0 else { throw ProcessRunnerError.system("pipe", errno) }
        return (fds[0], fds[1])
    }
}

/// Errors starting a process.
///
/// Once it runs, a failure is a result (``ProcessResult/termination``), not an error.
package enum ProcessRunnerError: Error, Sendable, Equatable, CustomStringConvertible {
    case executableNotFound(String, searchPath: String)
    case notExecutable(String)
    case workingDirectoryMissing(String)
    case inputFileUnreadable(String)
    case outputFileUnwritable(String, Int32)
    case launchFailed(executable: String, detail: String)
    case system(String, Int32)
    case sandboxUnavailable(String)

    package var description: String {
        switch self {
        case .executableNotFound(let name, let searchPath):
            "cannot find `\(name)` in PATH (\(searchPath)); install it or give its full path"
        case .notExecutable(let path):
            "`\(path)` is not an executable file; check the path and its permissions (chmod +x)"
        case .workingDirectoryMissing(let path):
            "cannot run in \(path): the directory does not exist"
        case .inputFileUnreadable(let path):
            "cannot read \(path) to give it to the process on stdin"
        case .outputFileUnwritable(let path, let code):
            "cannot write the output file \(path): \(String(cString: strerror(code)))"
        case .launchFailed(let executable, let detail):
            "could not start `\(executable)`: \(detail)"
        case .system(let call, let code):
            "\(call) failed: \(String(cString: strerror(code)))"
        case .sandboxUnavailable(let detail):
            "cannot run in the sandbox: \(detail); install bubblewrap, or choose --sandbox none (see docs/SECURITY.md)"
        }
    }
}

/// Resolves executables the way a shell would, but against the child's own `PATH`.
package enum ExecutableLocator {
    package static func locate(
        _ executable: String,
        environment: [String: String],
        workingDirectory: String
    ) throws -> String {
        if executable.contains("/") {
            let path =
                executable.hasPrefix("/")
                ? executable : URL(fileURLWithPath: workingDirectory).appendingPathComponent(executable).path
            guard access(path, X_OK) == 0 else {
                if FileManager.default.fileExists(atPath: path) { throw ProcessRunnerError.notExecutable(path) }
                throw ProcessRunnerError.executableNotFound(executable, searchPath: "given as a path")
            }
            return path
        }
        let searchPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(executable)"
            var isDirectory: ObjCBool = false
            if access(candidate, X_OK) == 0,
                FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue
            {
                return candidate
            }
        }
        throw ProcessRunnerError.executableNotFound(executable, searchPath: searchPath)
    }
}

private enum InputSource {
    /// A file descriptor for the child's stdin, opened close-on-exec.
    static func open(_ input: StandardInput) throws -> CInt {
        switch input {
        case .none:
            let fd = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ProcessRunnerError.system("open /dev/null", errno) }
            return fd
        case .file(let path):
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ProcessRunnerError.inputFileUnreadable(path) }
            return fd
        case .text(let text):
            // An unlinked temporary file rather than a pipe: the child may read as little as it likes.
            var template = Array((NSTemporaryDirectory() + "/flotilla-stdin-XXXXXX").utf8CString)
            let fd = flotilla_mkstemp_cloexec(&template)
            guard fd >= 0 else { throw ProcessRunnerError.system("mkstemp", errno) }
            unlink(template)
            var bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    close(fd)
                    throw ProcessRunnerError.system("write", errno)
                }
                offset += written
            }
            bytes.removeAll()
            lseek(fd, 0, SEEK_SET)
            return fd
        }
    }
}
