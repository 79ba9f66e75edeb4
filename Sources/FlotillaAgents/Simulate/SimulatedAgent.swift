import FlotillaCore
import Foundation
import Synchronization

/// The built-in, offline agent: carries out a ``Scenario`` in the worktree, deterministically.
///
/// It runs in-process, so it sleeps on the injected clock and honours the attempt timeout and cancellation
/// like a real agent would be torn down.
package struct SimulatedAgent: AgentBackend {
    package let name = "simulate"
    private let scenario: Scenario
    private let clock: any Clock<Duration>
    private let barriers: Barriers

    package init(scenario: Scenario, clock: any Clock<Duration> = ContinuousClock()) {
        self.scenario = scenario
        self.clock = clock
        self.barriers = Barriers(parties: scenario.barriers)
    }

    package func run(_ request: AgentRequest) async throws -> AgentOutcome {
        let started = ContinuousClock.now
        var transcript = ["[simulate] \(request.attempt) in \(request.worktree)"]
        defer {
            try? FileManager.default.createDirectory(
                atPath: (request.transcriptPath as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try? (transcript.joined(separator: "\n") + "\n").write(
                toFile: request.transcriptPath,
                atomically: true,
                encoding: .utf8
            )
        }
        guard let step = scenario.step(group: request.attempt.group, attempt: request.attempt.number) else {
            transcript.append("[simulate] no step for this group: nothing to do")
            return AgentOutcome(termination: .exited(0), transcriptPath: request.transcriptPath, duration: .zero)
        }

        let timedOut = try await withThrowingTaskGroup(of: Bool.self) { group in
            let clock = self.clock
            group.addTask {
                try await clock.sleep(for: request.timeout)
                return true
            }
            group.addTask { [barriers] in
                if let barrier = step.barrier { await barriers.arrive(barrier) }
                try await clock.sleep(for: step.delay ?? scenario.delay)
                if step.hang {
                    // Hang like a stuck agent: until the timeout or cancellation ends the session.
                    try await clock.sleep(for: .seconds(86_400 * 365))
                }
                return false
            }
            let first = try await group.next() ?? true
            group.cancelAll()
            return first
        }
        if timedOut {
            transcript.append("[simulate] hung; stopped at the \(request.timeout.shortDescription) timeout")
            return AgentOutcome(
                termination: .signaled(SIGTERM),
                timedOut: true,
                transcriptPath: request.transcriptPath,
                failure: .timedOut,
                duration: ContinuousClock.now - started
            )
        }
        try Task.checkCancellation()

        let root = URL(fileURLWithPath: request.worktree)
        for (path, contents) in step.write {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try contents.write(to: url, atomically: true, encoding: .utf8)
            transcript.append("[simulate] wrote \(path) (\(contents.utf8.count) bytes)")
        }
        for (path, contents) in step.append {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            let existing = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            try (existing + contents).write(to: url, atomically: true, encoding: .utf8)
            transcript.append("[simulate] appended to \(path) (\(contents.utf8.count) bytes)")
        }
        for path in step.delete {
            try? FileManager.default.removeItem(at: root.appendingPathComponent(path))
            transcript.append("[simulate] deleted \(path)")
        }
        if let message = step.message { transcript.append("[simulate] \(message)") }
        if step.usage.costUSD > 0 { transcript.append("[simulate] cost \(formatUSD(step.usage.costUSD))") }
        return AgentOutcome(
            termination: .exited(step.exitCode),
            finalMessage: step.message,
            usage: step.usage,
            transcriptPath: request.transcriptPath,
            duration: ContinuousClock.now - started
        )
    }
}

/// Rendezvous points shared by the simulated agents of one mission.
private final class Barriers: Sendable {
    private let parties: [String: Int]
    private let arrivals = Mutex<[String: Int]>([:])
    private let signals: [String: CompletionSignal]

    init(parties: [String: Int]) {
        self.parties = parties
        self.signals = parties.mapValues { _ in CompletionSignal() }
    }

    func arrive(_ name: String) async {
        guard let signal = signals[name], let needed = parties[name] else { return }
        let count = arrivals.withLock { arrivals -> Int in
            arrivals[name, default: 0] += 1
            return arrivals[name, default: 0]
        }
        if count >= needed { signal.signal() }
        await signal.wait()
    }
}
