import FlotillaCore
import Foundation
import Synchronization

/// A process runner that times every process and attributes it to the attempts the calling task works for.
final class RecordingRunner: ProcessRunner {
    private struct State {
        var perAttempt: [AttemptKey: Duration] = [:]
        var count = 0
        var total = Duration.zero
        var byCommand: [String: (count: Int, total: Duration)] = [:]
    }

    private let base: any ProcessRunner
    private let state = Mutex(State())

    init(_ base: any ProcessRunner) {
        self.base = base
    }

    func run(_ request: ProcessRequest) async throws -> ProcessResult {
        let keys = AttemptContext.current
        let started = ContinuousClock.now
        let result = try await base.run(request)
        let elapsed = ContinuousClock.now - started
        let command = Self.label(request)
        state.withLock { state in
            state.count += 1
            state.total += elapsed
            let previous = state.byCommand[command] ?? (0, .zero)
            state.byCommand[command] = (previous.count + 1, previous.total + elapsed)
            // A landing verified for several attempts counts whole for each: each of them waited for all of it.
            for key in keys { state.perAttempt[key, default: .zero] += elapsed }
        }
        return result
    }

    /// `git worktree`, `git commit`, `sh` (agent or verify)…: what kind of process a request starts.
    static func label(_ request: ProcessRequest) -> String {
        let name = (request.executable as NSString).lastPathComponent
        guard name == "git" else { return name }
        var arguments = request.arguments[...]
        while let first = arguments.first, first == "-c" || first == "-C" { arguments = arguments.dropFirst(2) }
        guard let subcommand = arguments.first else { return "git" }
        if subcommand == "worktree", arguments.count > 1 {
            return "git worktree \(arguments[arguments.startIndex + 1])"
        }
        return "git \(subcommand)"
    }

    /// Processes by kind: how many, and their mean duration in milliseconds.
    var breakdown: [String: ProcessStatistic] {
        state.withLock { state in
            state.byCommand.mapValues {
                ProcessStatistic(count: $0.count, meanMS: ($0.total / $0.count).millisecondsDouble)
            }
        }
    }

    func processTime(of key: AttemptKey) -> Duration { state.withLock { $0.perAttempt[key] ?? .zero } }
    var processCount: Int { state.withLock { $0.count } }
    var totalProcessTime: Duration { state.withLock { $0.total } }
}

/// Keeps every probe mark with the time it happened.
final class RecordingProbe: MissionProbe {
    private let marks = Mutex<[(ProbeMark, ContinuousClock.Instant)]>([])

    func mark(_ mark: ProbeMark) {
        let now = ContinuousClock.now
        marks.withLock { $0.append((mark, now)) }
    }

    /// Per attempt: from the moment it could start (its group ready and a slot free) to its agent starting, and
    /// the two parts of that: the loop deciding (to dispatch) and the attempt starting (claim, worktree, prompt).
    func schedulingLatencies() -> (total: [Duration], deciding: [Duration], starting: [Duration]) {
        var readyAt: [String: ContinuousClock.Instant] = [:]
        var slotFreeAt: [Int: ContinuousClock.Instant] = [:]
        var couldStart: [AttemptKey: ContinuousClock.Instant] = [:]
        var dispatchedAt: [AttemptKey: ContinuousClock.Instant] = [:]
        var latencies: [Duration] = []
        var deciding: [Duration] = []
        var starting: [Duration] = []
        for (mark, at) in marks.withLock({ $0 }) {
            switch mark {
            case .ready(let groups):
                for group in groups { readyAt[group] = at }
            case .slotFree(let slot):
                slotFreeAt[slot] = at
            case .dispatched(let key, let slot):
                let ready = readyAt[key.group] ?? at
                let free = slotFreeAt[slot] ?? at
                couldStart[key] = max(ready, free)
                dispatchedAt[key] = at
                deciding.append(at - max(ready, free))
            case .agentStarting(let key):
                if let start = couldStart[key] { latencies.append(at - start) }
                if let dispatched = dispatchedAt[key] { starting.append(at - dispatched) }
            default:
                break
            }
        }
        return (latencies, deciding, starting)
    }

    /// Per attempt: its time from dispatch to conclusion, less its processes and its wait in the merge queue.
    func overheads(processTime: (AttemptKey) -> Duration) -> [Duration] {
        var dispatched: [AttemptKey: ContinuousClock.Instant] = [:]
        var queued: [AttemptKey: ContinuousClock.Instant] = [:]
        var waited: [AttemptKey: Duration] = [:]
        var overheads: [Duration] = []
        for (mark, at) in marks.withLock({ $0 }) {
            switch mark {
            case .dispatched(let key, _):
                dispatched[key] = at
            case .queued(let key):
                queued[key] = at
            case .mergeStarting(let keys):
                for key in keys { if let since = queued[key] { waited[key] = at - since } }
            case .concluded(let key):
                guard let start = dispatched[key] else { continue }
                overheads.append((at - start) - processTime(key) - (waited[key] ?? .zero))
            default:
                break
            }
        }
        return overheads
    }
}

enum Statistics {
    static func percentile(_ values: [Duration], _ fraction: Double) -> Duration {
        guard !values.isEmpty else { return .zero }
        let sorted = values.sorted()
        let index = min(sorted.count - 1, max(0, Int((Double(sorted.count) * fraction).rounded(.up)) - 1))
        return sorted[index]
    }

    static func median(_ values: [Duration]) -> Duration { percentile(values, 0.5) }
}

/// The largest resident set this process has had, in megabytes (Linux `VmHWM`).
enum ResidentMemory {
    static func peakMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }
}

extension Duration {
    var millisecondsDouble: Double { seconds * 1000 }
}
