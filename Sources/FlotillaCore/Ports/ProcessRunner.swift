/// A child process to run.
///
/// Every process Flotilla starts (git, agents, verify commands) is described by one.
package struct ProcessRequest: Sendable, Equatable {
    /// An absolute path, or a name looked up in the `PATH` of ``environment``.
    package var executable: String
    package var arguments: [String]
    package var workingDirectory: String
    /// The complete environment of the child; build it with an environment policy, never by inheriting.
    package var environment: [String: String]
    package var standardInput: StandardInput
    /// Where stdout and stderr are streamed as they arrive (the transcript), if anywhere.
    package var outputFile: String?
    /// Bytes kept in ``outputFile``; the rest is counted and dropped.
    package var outputFileLimit: Int
    /// Bytes of stdout kept in memory from the start (for parsing, such as git's output).
    package var captureLimit: Int
    /// Bytes of stdout and stderr kept from the end, interleaved as they arrived (for feedback and results).
    package var tailLimit: Int
    /// After this long the whole process group is terminated; `nil` waits forever.
    package var timeout: Duration?
    /// Time between SIGTERM and SIGKILL to the process group.
    package var terminationGrace: Duration
    /// The sandbox the process runs in: agent sessions and verify runs have one; Flotilla's own git does not.
    package var confinement: Confinement?

    package init(
        executable: String,
        arguments: [String] = [],
        workingDirectory: String,
        environment: [String: String],
        standardInput: StandardInput = .none,
        outputFile: String? = nil,
        outputFileLimit: Int = 64 << 20,
        captureLimit: Int = 16 << 20,
        tailLimit: Int = 64 << 10,
        timeout: Duration? = nil,
        terminationGrace: Duration = .seconds(5)
    ) {
        self.executable = executable
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.standardInput = standardInput
        self.outputFile = outputFile
        self.outputFileLimit = outputFileLimit
        self.captureLimit = captureLimit
        self.tailLimit = tailLimit
        self.timeout = timeout
        self.terminationGrace = terminationGrace
    }

    /// A shell command line, run with `/bin/sh -c`.
    package static func shell(
        _ command: String,
        workingDirectory: String,
        environment: [String: String]
    ) -> ProcessRequest {
        ProcessRequest(
            executable: "/bin/sh",
            arguments: ["-c", command],
            workingDirectory: workingDirectory,
            environment: environment
        )
    }
}

/// What a child process reads on stdin.
package enum StandardInput: Sendable, Equatable {
    /// `/dev/null`.
    case none
    case text(String)
    case file(String)
}

/// How a process ended.
package enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    package var isSuccess: Bool { self == .exited(0) }

    package var exitCode: Int? {
        if case .exited(let code) = self { return Int(code) }
        return nil
    }

    package var description: String {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signaled(let signal): "signal \(signal)"
        }
    }
}

/// The result of a process run.
///
/// A non-zero exit is a result, not an error.
package struct ProcessResult: Sendable, Equatable {
    package var termination: Termination
    /// The timeout expired and the process group was torn down.
    package var timedOut: Bool
    /// The first ``ProcessRequest/captureLimit`` bytes of stdout.
    package var standardOutput: String
    package var standardOutputTruncated: Bool
    /// The last bytes of stderr.
    package var standardError: String
    /// The last ``ProcessRequest/tailLimit`` bytes of stdout and stderr together.
    package var outputTail: String
    /// Bytes of output the process wrote in all.
    package var outputBytes: Int
    package var duration: Duration

    package init(
        termination: Termination,
        timedOut: Bool = false,
        standardOutput: String = "",
        standardOutputTruncated: Bool = false,
        standardError: String = "",
        outputTail: String = "",
        outputBytes: Int = 0,
        duration: Duration = .zero
    ) {
        self.termination = termination
        self.timedOut = timedOut
        self.standardOutput = standardOutput
        self.standardOutputTruncated = standardOutputTruncated
        self.standardError = standardError
        self.outputTail = outputTail
        self.outputBytes = outputBytes
        self.duration = duration
    }
}

/// Starts child processes in their own process group, with timeouts, output caps and SIGTERM→SIGKILL teardown.
package protocol ProcessRunner: Sendable {
    /// Runs the process to its end. Throws only when it cannot be started; cancelling the calling task
    /// tears the whole process group down.
    func run(_ request: ProcessRequest) async throws -> ProcessResult
}
