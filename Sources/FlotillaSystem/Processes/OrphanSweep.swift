import CFlotillaSystem
import FlotillaCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The children this process started itself and that still run, so that a sweep tells them from orphans it adopted.
///
/// A spawn is "in progress" from just before the fork until its pid is registered; a sweep waits until none is, so a
/// child is never taken for an orphan in that window.
package final class ChildRegistry: Sendable {
    package static let shared = ChildRegistry()

    private struct State {
        var spawning = 0
        var live: Set<Int32> = []
    }

    private let state = Mutex(State())

    /// Marks a spawn as started: call ``Spawn/register(_:)`` with its pid once it exists, and ``Spawn/end()`` once
    /// it has been waited for (or failed to start).
    package func beginSpawn() -> Spawn {
        state.withLock { $0.spawning += 1 }
        return Spawn(registry: self)
    }

    fileprivate func registered(_ pid: Int32) {
        state.withLock { state in
            state.spawning -= 1
            state.live.insert(pid)
        }
    }

    fileprivate func ended(_ pid: Int32?) {
        state.withLock { state in
            if let pid { state.live.remove(pid) } else { state.spawning -= 1 }
        }
    }

    /// Runs `body` with the live children while no spawn is in progress (waiting up to `patience` for one to
    /// register); nil if spawns never settled.
    fileprivate func whileQuiet<T>(patience: Duration, _ body: (Set<Int32>) -> T) async -> T? {
        let deadline = ContinuousClock.now + patience
        while true {
            let result = state.withLock { state -> T? in
                state.spawning == 0 ? body(state.live) : nil
            }
            if let result { return result }
            if ContinuousClock.now > deadline { return nil }
            await KernelPolling.pause(.milliseconds(2))
        }
    }

    /// One child, from just before it is spawned until it has been waited for.
    package final class Spawn: Sendable {
        private enum Phase {
            case spawning
            case running(Int32)
            case ended
        }

        private let registry: ChildRegistry
        private let phase = Mutex(Phase.spawning)

        fileprivate init(registry: ChildRegistry) {
            self.registry = registry
        }

        package func register(_ pid: Int32) {
            let first = phase.withLock { phase -> Bool in
                guard case .spawning = phase else { return false }
                phase = .running(pid)
                return true
            }
            if first { registry.registered(pid) }
        }

        /// The child was waited for, or never started; repeated calls do nothing.
        package func end() {
            let pid = phase.withLock { phase -> Int32?? in
                defer { phase = .ended }
                switch phase {
                case .spawning: return .some(nil)
                case .running(let pid): return .some(pid)
                case .ended: return .none
                }
            }
            if let pid { registry.ended(pid) }
        }
    }
}

/// Ends what sessions leave behind when there is no sandbox.
///
/// Without a sandbox, a session's daemons (double-forked, `setsid`) would outlive it. This process becomes a child
/// subreaper, so such orphans become its children instead of init's; after each confined run, and when a mission
/// ends, every orphan it adopted that belongs to no running session is killed (and reaped).
package enum OrphanSweep {
    private static let enabled = Mutex<Bool?>(nil)

    /// Makes this process the subreaper of its descendants (once); false where the system cannot.
    @discardableResult
    package static func enable() -> Bool {
        enabled.withLock { enabled in
            if let enabled { return enabled }
            let result = flotilla_become_subreaper() == 0
            enabled = result
            return result
        }
    }

    /// Kills and reaps every adopted orphan that is not in the session of a child still running; returns how many.
    @discardableResult
    package static func sweep(registry: ChildRegistry = .shared) async -> Int {
        guard enabled.withLock({ $0 }) == true else { return 0 }
        var ended = 0
        // Killing an orphan orphans its own children, which are adopted in turn: go until none is left.
        for _ in 0..<16 {
            let round = await registry.whileQuiet(patience: .seconds(2)) { live -> Int in
                let me = getpid()
                var count = 0
                for process in ProcessScan.children(of: me) where !live.contains(process.pid) {
                    // A session still running keeps its processes (its leader is one of ours).
                    if live.contains(process.session) { continue }
                    if !process.zombie { kill(process.pid, SIGKILL) }
                    count += 1
                }
                return count
            }
            guard let round, round > 0 else { break }
            ended += round
            // Reap them: they are this process's children now, and nobody else waits for them.
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline {
                let left = await registry.whileQuiet(patience: .seconds(2)) { live -> Int in
                    var waiting = 0
                    for process in ProcessScan.children(of: getpid())
                    where !live.contains(process.pid) && !live.contains(process.session) {
                        if flotilla_reap(process.pid) != 1 { waiting += 1 }
                    }
                    return waiting
                }
                if left == 0 || left == nil { break }
                await KernelPolling.pause(.milliseconds(5))
            }
        }
        return ended
    }
}

/// Reads `/proc` for processes' parents and sessions.
package enum ProcessScan {
    struct Entry {
        var pid: Int32
        var parent: Int32
        var session: Int32
        var zombie: Bool
    }

    /// This process's children: from each thread's `children` list, which the kernel keeps, rather than a walk of
    /// every process (a sweep after each session would otherwise read all of `/proc`).
    static func children(of parent: Int32) -> [Entry] {
        guard parent == getpid(),
            let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        else { return all().filter { $0.parent == parent } }
        var pids = Set<Int32>()
        for thread in threads {
            guard let list = try? String(contentsOfFile: "/proc/self/task/\(thread)/children", encoding: .utf8) else {
                return all().filter { $0.parent == parent }
            }
            pids.formUnion(list.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) })
        }
        return pids.compactMap(entry).filter { $0.parent == parent }
    }

    static func all() -> [Entry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return names.compactMap { Int32($0).flatMap(entry) }
    }

    static func entry(_ pid: Int32) -> Entry? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After the command name: state, ppid, pgrp, session…
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 4, let parent = Int32(fields[1]), let session = Int32(fields[3]) else { return nil }
        return Entry(pid: pid, parent: parent, session: session, zombie: fields[0] == "Z")
    }

    /// Processes whose command line has an argument containing `token` (for tests, and people, looking for one).
    package static func withArgument(containing token: String) -> [Int32] {
        let me = getpid()
        return all().compactMap { entry in
            guard entry.pid != me, !entry.zombie,
                let data = FileManager.default.contents(atPath: "/proc/\(entry.pid)/cmdline")
            else { return nil }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains { $0.contains(token) } ? entry.pid : nil
        }
    }

    /// Processes of this user whose environment holds `marker` (`FLOTILLA_MISSION=m-…`), for what a crashed run
    /// left; a process that cleared its environment is not found this way.
    package static func carrying(_ marker: String) -> [Int32] {
        let me = getpid()
        let needle = Array(marker.utf8) + [0]
        return all().compactMap { entry in
            guard entry.pid != me, !entry.zombie,
                let data = FileManager.default.contents(atPath: "/proc/\(entry.pid)/environ")
            else { return nil }
            let bytes = [0] + Array(data)
            return bytes.firstRange(of: [0] + needle) != nil ? entry.pid : nil
        }
    }
}
