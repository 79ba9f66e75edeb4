import FlotillaCore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Synchronization
import Testing

@Suite("Subprocess runner (real processes)", .tags(.medium))
struct SubprocessRunnerTests {
    let runner = SubprocessRunner()
    let environment = EnvironmentPolicy().environment(from: ProcessInfo.processInfo.environment)

    func shell(_ command: String, in directory: String, timeout: Duration? = nil) -> ProcessRequest {
        var request = ProcessRequest.shell(command, workingDirectory: directory, environment: environment)
        request.timeout = timeout
        request.terminationGrace = .milliseconds(500)
        return request
    }

    @Test func capturesOutputAndExitStatus() async throws {
        try await TemporaryDirectory.with { dir in
            let result = try await runner.run(shell("echo out; echo err >&2; exit 3", in: dir.path))
            #expect(result.termination == .exited(3))
            #expect(result.standardOutput == "out\n")
            #expect(result.standardError == "err\n")
            #expect(result.outputTail.contains("out") && result.outputTail.contains("err"))
            #expect(!result.timedOut)
        }
    }

    @Test func theTranscriptNeverMixesTheStreamsInsideALine() async throws {
        try await TemporaryDirectory.with { dir in
            // stdout's line is unfinished when stderr writes a whole one, and a secret sits in the unfinished one.
            var request = shell(
                "printf 'out-a %s' \"$SERVICE_TOKEN\"; printf 'err-line\\n' >&2; printf ' out-b\\n'; printf 'tail'",
                in: dir.path
            )
            request.environment["SERVICE_TOKEN"] = "tok-0123456789abcdef"
            request.outputFile = dir.file("transcript.log")
            let result = try await runner.run(request)
            let lines = try dir.read("transcript.log").split(separator: "\n").map(String.init)
            #expect(lines.sorted() == ["err-line", "out-a [redacted] out-b", "tail"], "\(lines)")
            #expect(result.standardOutput == "out-a [redacted] out-b\ntail")
        }
    }

    /// Counts the children it is told of.
    final class CountingTracker: ProcessTracker {
        let count = Mutex(0)
        func started(_ process: ProcessIdentity?, request: ProcessRequest) { count.withLock { $0 += 1 } }
        func ended(_ process: ProcessIdentity) {}
    }

    @Test func everyChildIsReportedEvenOneThatEndedBeforeItWasLookedAt() async throws {
        try await TemporaryDirectory.with { dir in
            let tracker = CountingTracker()
            // `true` often ends before its /proc entry is read; it ran all the same (the crash tests count on it).
            try await ProcessTracking.$current.withValue(tracker) {
                for _ in 0..<30 {
                    _ = try await runner.run(
                        ProcessRequest(
                            executable: "true",
                            arguments: [],
                            workingDirectory: dir.path,
                            environment: environment
                        )
                    )
                }
            }
            #expect(tracker.count.withLock { $0 } == 30)
        }
    }

    @Test func timeoutKillsTheWholeProcessGroup() async throws {
        try await TemporaryDirectory.with { dir in
            // The child ignores SIGTERM, so only the group SIGKILL ends it.
            let command = "(trap '' TERM; exec sleep 300) & echo $! > child.pid; sleep 300"
            let result = try await runner.run(shell(command, in: dir.path, timeout: .milliseconds(300)))
            #expect(result.timedOut)
            #expect(result.termination != .exited(0))
            let childPID = try #require(
                Int32(try dir.read("child.pid").trimmingCharacters(in: .whitespacesAndNewlines))
            )
            #expect(await ProcessLiveness.waitForExit(childPID, timeout: .seconds(60)))
        }
    }

    @Test func leaderExitEndsBackgroundChildrenHoldingThePipe() async throws {
        try await TemporaryDirectory.with { dir in
            let result = try await runner.run(shell("sleep 300 & echo $! > child.pid; echo done", in: dir.path))
            #expect(result.termination == .exited(0))
            #expect(result.standardOutput == "done\n")
            let childPID = try #require(
                Int32(try dir.read("child.pid").trimmingCharacters(in: .whitespacesAndNewlines))
            )
            #expect(await ProcessLiveness.waitForExit(childPID, timeout: .seconds(60)))
            // Not the 300 s of the child: the run ended with its leader (the bound is loose for busy machines).
            #expect(result.duration < .seconds(60))
        }
    }

    @Test func aLeftoverThatClosedItsOutputAndIgnoresTermIsStillKilled() async throws {
        try await TemporaryDirectory.with { dir in
            let command = "(trap '' TERM; exec sleep 300 >/dev/null 2>&1) & echo $! > child.pid; echo done"
            let result = try await runner.run(shell(command, in: dir.path))
            #expect(result.termination == .exited(0))
            let childPID = try #require(
                Int32(try dir.read("child.pid").trimmingCharacters(in: .whitespacesAndNewlines))
            )
            #expect(await ProcessLiveness.waitForExit(childPID, timeout: .seconds(60)))
        }
    }

    @Test func outputFileIsCappedAndTheTailKept() async throws {
        try await TemporaryDirectory.with { dir in
            var request = shell("i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done", in: dir.path)
            request.outputFile = dir.file("logs/out.log")
            request.outputFileLimit = 1000
            request.captureLimit = 100
            request.tailLimit = 50
            let result = try await runner.run(request)
            let log = try dir.read("logs/out.log")
            #expect(log.hasPrefix("line-0\nline-1\n"))
            #expect(log.contains("[flotilla: output capped at 1000 bytes"))
            #expect(log.utf8.count < 1200)
            #expect(result.standardOutputTruncated)
            #expect(result.standardOutput.utf8.count == 100)
            #expect(result.outputTail.hasSuffix("line-1999\n"))
            #expect(result.outputTail.utf8.count <= 50)
            #expect(result.outputBytes > 10_000)
        }
    }

    @Test func environmentIsExactlyWhatWasGiven() async throws {
        try await TemporaryDirectory.with { dir in
            let policy = EnvironmentPolicy()
            let parent = ["PATH": "/usr/bin:/bin", "HOME": "/tmp", "SECRET_TOKEN": "hunter2", "LC_ALL": "C"]
            var request = shell("env", in: dir.path)
            request.environment = policy.environment(from: parent, adding: ["FLOTILLA_GROUP": "api"])
            let result = try await runner.run(request)
            #expect(!result.standardOutput.contains("hunter2"))
            #expect(result.standardOutput.contains("FLOTILLA_GROUP=api"))
            #expect(result.standardOutput.contains("LC_ALL=C"))
            #expect(result.standardOutput.contains("HOME=/tmp"))
        }
    }

    @Test func standardInputFromTextAndFile() async throws {
        try await TemporaryDirectory.with { dir in
            var request = shell("cat", in: dir.path)
            request.standardInput = .text(String(repeating: "prompt ", count: 20_000))
            let fromText = try await runner.run(request)
            #expect(fromText.standardOutput.utf8.count == 140_000)
            try dir.write("prompt.md", "from a file\n")
            request.standardInput = .file(dir.file("prompt.md"))
            let fromFile = try await runner.run(request)
            #expect(fromFile.standardOutput == "from a file\n")
        }
    }

    @Test func aMissingExecutableIsAClearError() async throws {
        try await TemporaryDirectory.with { dir in
            let request = ProcessRequest(
                executable: "no-such-tool-xyz",
                workingDirectory: dir.path,
                environment: ["PATH": "/usr/bin:/bin"]
            )
            await #expect {
                try await runner.run(request)
            } throws: { error in
                "\(error)".contains("cannot find `no-such-tool-xyz` in PATH (/usr/bin:/bin)")
            }
        }
    }

    @Test func cancellationTearsTheGroupDown() async throws {
        try await TemporaryDirectory.with { dir in
            let ready = try FIFOSignal(in: dir)
            let request = shell("sleep 300 & echo $! > child.pid; echo started > \(ready.path); wait", in: dir.path)
            let result = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
                group.addTask { try await runner.run(request) }
                #expect(await ready.firstLine() == "started")
                group.cancelAll()
                return try #require(try await group.next())
            }
            #expect(result.termination != .exited(0))
            let childPID = try #require(
                Int32(try dir.read("child.pid").trimmingCharacters(in: .whitespacesAndNewlines))
            )
            #expect(await ProcessLiveness.waitForExit(childPID, timeout: .seconds(60)))
        }
    }

    @Test func aGroupNumberTakenByAnotherProcessIsNeverSignalled() async throws {
        // A session leader of its own, as every process Flotilla starts is: its group's number is its pid. Once a
        // group's leader is gone its number may be given to such a process; ending "the group" must not end it.
        let stranger = Process()
        stranger.executableURL = URL(fileURLWithPath: "/bin/sleep")
        stranger.arguments = ["30"]
        try stranger.run()
        // Foundation starts it leading a group of its own, as a session leader does.
        try #require(getpgid(stranger.processIdentifier) == stranger.processIdentifier)
        defer { stranger.terminate() }
        let pid = stranger.processIdentifier
        #expect(ProcessLiveness.signalLeftovers(ofGroup: pid, SIGKILL) == false)
        #expect(!(await ProcessLiveness.waitForExit(pid, timeout: .milliseconds(300))), "the stranger was killed")
        #expect(stranger.isRunning)
    }
}
