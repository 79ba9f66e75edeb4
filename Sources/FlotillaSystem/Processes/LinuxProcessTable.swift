import FlotillaCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The real ``ProcessTable``, from `/proc`: children are recorded as files named by pid holding their start time,
/// so a later run can end whatever a crashed one left running, and never a stranger that reused a pid.
package struct LinuxProcessTable: ProcessTable {
    package init() {}

    package func current() -> ProcessIdentity? {
        Self.identity(of: getpid())
    }

    /// The identity of a live process (zombies count as dead).
    package static func identity(of pid: Int32) -> ProcessIdentity? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After the parenthesised command name: state (field 3), then fields 4… — start time is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X", let ticks = UInt64(fields[19]) else { return nil }
        return ProcessIdentity(pid: pid, startTicks: ticks)
    }

    package func isRunning(_ process: ProcessIdentity) -> Bool {
        Self.identity(of: process.pid) == process
    }

    package func tracker(recordingIn directory: String) -> any ProcessTracker {
        DirectoryProcessTracker(directory: directory)
    }

    package func reap(recordedIn directory: String, grace: Duration) async -> [ProcessIdentity] {
        let recorded = DirectoryProcessTracker(directory: directory).recorded()
        let running = recorded.filter(isRunning)
        // Each child led its own process group: end the group, which holds what the child started.
        for process in running { Glibc.kill(-process.pid, SIGTERM) }
        for process in running where await !waitForExit(process, timeout: grace) {
            Glibc.kill(-process.pid, SIGKILL)
            _ = await waitForExit(process, timeout: .seconds(5))
        }
        // What the leaders left in their groups; a leader still there is still ours, a number taken by another
        // process is not (``ProcessLiveness/signalLeftovers(ofGroup:_:)``).
        for process in running {
            if isRunning(process) {
                Glibc.kill(-process.pid, SIGKILL)
            } else {
                ProcessLiveness.signalLeftovers(ofGroup: process.pid, SIGKILL)
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
        return running
    }

    package func end(carrying marker: String, grace: Duration) async -> [Int32] {
        let found = ProcessScan.carrying(marker)
        for pid in found { Glibc.kill(pid, SIGTERM) }
        for pid in found where await !ProcessLiveness.waitForExit(pid, timeout: grace) {
            Glibc.kill(pid, SIGKILL)
            _ = await ProcessLiveness.waitForExit(pid, timeout: .seconds(5))
        }
        return found
    }

    package func requestStop(_ process: ProcessIdentity) -> Bool {
        guard isRunning(process) else { return false }
        return Glibc.kill(process.pid, SIGTERM) == 0
    }

    package func kill(_ process: ProcessIdentity) -> Bool {
        guard isRunning(process) else { return false }
        return Glibc.kill(process.pid, SIGKILL) == 0
    }

    package func waitForExit(_ process: ProcessIdentity, timeout: Duration) async -> Bool {
        guard isRunning(process) else { return true }
        return await ProcessLiveness.waitForExit(process.pid, timeout: timeout)
    }
}

/// Records running children as files `<directory>/<pid>` holding their start time.
struct DirectoryProcessTracker: ProcessTracker {
    let directory: String

    func started(_ process: ProcessIdentity?, request: ProcessRequest) {
        guard let process else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let command = ([request.executable] + request.arguments).joined(separator: " ").prefix(300)
        _ = FileManager.default.createFile(
            atPath: path(process.pid),
            contents: Data("\(process.startTicks)\n\(command)\n".utf8)
        )
    }

    func ended(_ process: ProcessIdentity) {
        try? FileManager.default.removeItem(atPath: path(process.pid))
    }

    func recorded() -> [ProcessIdentity] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name in
            guard let pid = Int32(name),
                let contents = try? String(contentsOfFile: path(pid), encoding: .utf8),
                let ticks = UInt64(contents.firstLine)
            else { return nil }
            return ProcessIdentity(pid: pid, startTicks: ticks)
        }
    }

    private func path(_ pid: Int32) -> String {
        (directory as NSString).appendingPathComponent(String(pid))
    }
}
