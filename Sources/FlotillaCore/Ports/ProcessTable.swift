/// A process as the kernel knows it: its pid and when it started, so that a reused pid is never taken for it.
package struct ProcessIdentity: Sendable, Equatable, Codable, CustomStringConvertible {
    package var pid: Int32
    /// Start time in clock ticks since boot (`/proc/PID/stat`, field 22).
    package var startTicks: UInt64

    package init(pid: Int32, startTicks: UInt64) {
        self.pid = pid
        self.startTicks = startTicks
    }

    package var description: String { "process \(pid)" }
}

/// Told of every child process as it starts and ends, so that children a crashed Flotilla left behind can be
/// found and ended later.
package protocol ProcessTracker: Sendable {
    /// A child started; `process` is nil when it had already ended by the time it was looked at (a quick `git`
    /// call), so there is nothing left to record but the fact that it ran.
    func started(_ process: ProcessIdentity?, request: ProcessRequest)
    func ended(_ process: ProcessIdentity)
}

/// The tracker of the task that spawns processes (set around a mission's loop).
package enum ProcessTracking {
    @TaskLocal package static var current: (any ProcessTracker)?
}

/// The processes of this machine, as far as missions care: this process, whether others still run, and the
/// children recorded by earlier runs.
package protocol ProcessTable: Sendable {
    /// This process.
    func current() -> ProcessIdentity?
    func isRunning(_ process: ProcessIdentity) -> Bool
    /// A tracker that records children under `directory` while they run.
    func tracker(recordingIn directory: String) -> any ProcessTracker
    /// Ends (SIGTERM, then SIGKILL after `grace`) the process group of every child recorded under `directory`
    /// that still runs, and forgets them all; returns those that were running.
    func reap(recordedIn directory: String, grace: Duration) async -> [ProcessIdentity]
    /// Ends (SIGTERM, then SIGKILL after `grace`) every process of this user whose environment holds `marker`
    /// (`FLOTILLA_MISSION=m-…`, which every session and verify run of a mission carries); returns their pids.
    func end(carrying marker: String, grace: Duration) async -> [Int32]
    /// Asks a process to stop (SIGTERM); true if it was running.
    func requestStop(_ process: ProcessIdentity) -> Bool
    /// Kills a process (SIGKILL); true if it was running.
    func kill(_ process: ProcessIdentity) -> Bool
    /// Waits until the process has exited, at most `timeout`; true if it did.
    func waitForExit(_ process: ProcessIdentity, timeout: Duration) async -> Bool
}
