import CFlotillaSystem
import FlotillaCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Whether processes are alive, and waiting for them to end, for processes this process did not start.
package enum ProcessLiveness {
    /// Signals what is left of the process group `leader` led, once the leader itself is gone; true if it sent.
    ///
    /// The kernel does not give a number to a new process while a process group still uses it: so while members of
    /// the group live, no process has the number `leader`, and a process that has it now is a stranger whose own
    /// group (a session leader's, say) the number names. That group is left alone. Only a group that is empty can
    /// be mistaken for another in the instant between the check and the signal, and then nothing of ours remains
    /// to end.
    @discardableResult
    package static func signalLeftovers(ofGroup leader: pid_t, _ signal: Int32) -> Bool {
        guard leader > 1, kill(leader, 0) != 0, errno == ESRCH else { return false }
        return kill(-leader, signal) == 0
    }

    /// Alive as the kernel sees it: a zombie counts as dead.
    package static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        // The state letter follows the parenthesised command name.
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    /// Waits until `pid` has exited (a pidfd becomes readable then), at most `timeout`; true if it exited.
    ///
    /// The wait blocks a dedicated thread, not the caller's.
    package static func waitForExit(_ pid: Int32, timeout: Duration) async -> Bool {
        let descriptor = flotilla_pidfd_open(pid)
        if descriptor < 0 {
            // No such process: long gone. Without pidfd support, fall back to the process table.
            return errno == ESRCH || !isAlive(pid)
        }
        let exited = CompletionSignal()
        let milliseconds = Int32(clamping: timeout.milliseconds)
        let thread = Thread {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            var ready: Int32
            repeat { ready = poll(&entry, 1, milliseconds) } while ready < 0 && errno == EINTR
            close(descriptor)
            if ready > 0 { exited.signal() }
        }
        thread.start()
        return await exited.wait(timeout: timeout + .milliseconds(200))
    }
}
