import FlotillaCore
import FlotillaSystem
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A testing hook that kills this process with SIGKILL at a chosen point.
///
/// `FLOTILLA_CRASH_AT=checkpoint:merge.verified#2` kills it the second time the loop records that step, and
/// `FLOTILLA_CRASH_AT=process:agent.sh#3` when the third process whose command line contains `agent.sh` has started.
/// The kill-9 tests use it to stop Flotilla at exact points and resume it.
package final class FaultInjection: MissionProbe {
    package enum Point: Equatable {
        case checkpoint(String)
        case process(String)
    }

    private let point: Point
    private let occurrence: Int
    private let seen = Mutex(0)

    /// Reads the hook from the environment; nil when it is not set.
    package init?(environment: [String: String]) {
        guard let value = environment["FLOTILLA_CRASH_AT"], !value.isEmpty else { return nil }
        let parts = value.split(separator: "#", maxSplits: 1)
        occurrence = parts.count == 2 ? Int(parts[1]) ?? 1 : 1
        let spec = String(parts[0])
        if spec.hasPrefix("process:") {
            point = .process(String(spec.dropFirst("process:".count)))
        } else if spec.hasPrefix("checkpoint:") {
            point = .checkpoint(String(spec.dropFirst("checkpoint:".count)))
        } else {
            return nil
        }
    }

    package func mark(_ mark: ProbeMark) {
        if case .checkpoint(let name) = mark, point == .checkpoint(name) { count() }
    }

    package func processStarted(_ request: ProcessRequest) {
        guard case .process(let fragment) = point else { return }
        // The command line, then `[FLOTILLA_GROUPS=…]` for verify runs, so a test can pick out one of them.
        var text = ([request.executable] + request.arguments).joined(separator: " ")
        if let groups = request.environment["FLOTILLA_GROUPS"] { text += " [FLOTILLA_GROUPS=\(groups)]" }
        if text.contains(fragment) { count() }
    }

    private func count() {
        let reached = seen.withLock { seen -> Bool in
            seen += 1
            return seen == occurrence
        }
        if reached { kill(getpid(), SIGKILL) }
    }
}

/// The real process table, telling the fault injection about every child.
package struct FaultInjectingProcessTable: ProcessTable {
    package let base: any ProcessTable
    package let faults: FaultInjection

    package func current() -> ProcessIdentity? { base.current() }
    package func isRunning(_ process: ProcessIdentity) -> Bool { base.isRunning(process) }
    package func tracker(recordingIn directory: String) -> any ProcessTracker {
        Tracker(base: base.tracker(recordingIn: directory), faults: faults)
    }
    package func end(carrying marker: String, grace: Duration) async -> [Int32] {
        await base.end(carrying: marker, grace: grace)
    }

    package func reap(recordedIn directory: String, grace: Duration) async -> [ProcessIdentity] {
        await base.reap(recordedIn: directory, grace: grace)
    }
    package func requestStop(_ process: ProcessIdentity) -> Bool { base.requestStop(process) }
    package func kill(_ process: ProcessIdentity) -> Bool { base.kill(process) }
    package func waitForExit(_ process: ProcessIdentity, timeout: Duration) async -> Bool {
        await base.waitForExit(process, timeout: timeout)
    }

    struct Tracker: ProcessTracker {
        let base: any ProcessTracker
        let faults: FaultInjection

        package func started(_ process: ProcessIdentity?, request: ProcessRequest) {
            // Recorded first, as a real crash would find it.
            base.started(process, request: request)
            faults.processStarted(request)
        }

        package func ended(_ process: ProcessIdentity) { base.ended(process) }
    }
}
