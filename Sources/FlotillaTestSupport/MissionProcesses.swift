import FlotillaCore
import FlotillaSystem
import Foundation

/// The processes of a mission, as the machine sees them: every process Flotilla starts for it (agent sessions, verify
/// runs, and whatever they start) carries `FLOTILLA_MISSION=<id>` in its environment, inside a sandbox or not.
package enum MissionProcesses {
    package static func running(_ mission: MissionID) -> [Int32] {
        ProcessScan.carrying("FLOTILLA_MISSION=\(mission.rawValue)")
    }

    /// Waits until no process has an argument containing `token` (a daemon that cleared its environment), at most
    /// `timeout`; those still running, if any.
    package static func waitUntilGone(argument token: String, timeout: Duration = .seconds(60)) async -> [Int32] {
        await waitUntilEmpty(timeout: timeout) { ProcessScan.withArgument(containing: token) }
    }

    /// Waits until none of the mission's processes runs, at most `timeout`; the processes still running, if any.
    package static func waitUntilNoneRuns(_ mission: MissionID, timeout: Duration = .seconds(60)) async -> [Int32] {
        await waitUntilEmpty(timeout: timeout) { running(mission) }
    }

    private static func waitUntilEmpty(timeout: Duration, _ scan: () -> [Int32]) async -> [Int32] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = scan()
            let remaining = deadline - ContinuousClock.now
            guard let first = left.first, remaining > .zero else { return left }
            // Each wait is on the process's exit (a pidfd), not a sleep.
            _ = await ProcessLiveness.waitForExit(first, timeout: remaining)
        }
    }
}
