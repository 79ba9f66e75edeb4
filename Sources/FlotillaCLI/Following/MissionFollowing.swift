import Dispatch
import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaService
import Foundation

/// Showing a mission as it runs: a live view on a terminal, one line per event otherwise, JSON lines with
/// `--output json`; in this process (`run`, `resume`, `demo`) or from another one (`attach`, a daemon's missions).
struct MissionFollowing {
    let output: OutputFormat
    let composition: Composition

    /// Runs the mission in this process until it ends, and returns its exit status; Ctrl-C stops it gracefully.
    func runHere(_ repository: MissionRepository, _ id: MissionID) async throws -> Int32 {
        let record = try await repository.requireRecord(id)
        let spec = record.spec
        let live = output == .table && composition.isInteractiveTerminal ? LiveView(.init(spec)) : nil
        let console: any MissionEventSink =
            live ?? EventLinePrinter(origin: record.createdAt, toStandardError: output == .json)
        if output == .table && live == nil {
            Console.out(
                "Mission \(id): \(spec.checklist.groups.count) groups, \(spec.agents) agents (\(spec.backend)) → "
                    + spec.targetBranch
            )
        }
        let stop = CompletionSignal()
        let interrupts = InterruptHandler(stop: stop)
        defer { interrupts.restore() }
        let run = try await ticking(live) {
            try await repository.run(id, console: console, stop: stop) { Console.err("warning: \($0)") }
        }
        let result = run.result
        switch output {
        case .json:
            Console.json(MissionDTO(run.record, targetHead: result.targetHead, groups: run.groups))
        case .table:
            Console.out("")
            Console.out("Mission \(id) \(result.reason.outcomeDescription): \(result.summary)")
            Console.out(
                "  target:  \(spec.targetBranch) at \(result.targetHead.shortSHA) (base \(spec.baseCommit.shortSHA))"
            )
            Console.out("  log:     \(repository.layout.missionLog(id))")
            Console.out("  details: flotilla status \(id) · flotilla history \(id)")
        }
        return result.reason.exitCode
    }

    /// Follows a mission that another process runs until it ends, and returns its exit status; Ctrl-C leaves it running.
    func follow(_ service: any MissionService, _ mission: MissionDTO) async throws -> Int32 {
        guard let id = MissionID(mission.id) else { throw FlotillaError(.internal, "bad mission id \(mission.id)") }
        let live = output == .table && composition.isInteractiveTerminal ? LiveView(.init(mission)) : nil
        let printer: any MissionEventSink =
            live ?? EventLinePrinter(origin: mission.createdAt, toStandardError: output == .json)
        let show: @Sendable (EventDTO) -> Void = { event in
            if output == .json, let line = try? APIJSON.encoder.encode(event) {
                FileHandle.standardOutput.write(line + Data("\n".utf8))
            } else if let event = MissionEvent(event) {
                printer.publish(event)
            }
        }
        try await ticking(live) {
            if let daemon = service as? DaemonClient {
                // The daemon's stream ends when the mission does.
                try await daemon.followEvents(id) { event in
                    show(event)
                    return true
                }
                return
            }
            var last: Int64 = 0
            while true {
                let events = try await service.events(id, after: last, limit: 500)
                events.forEach(show)
                last = events.last?.id ?? last
                if events.count == 500 { continue }
                if try await service.hasEnded(id) {
                    // Whatever it recorded after the last read.
                    try await service.events(id, after: last, limit: 10_000).forEach(show)
                    return
                }
                // The mission runs in another process, which writes only to the ledger: read it as it grows.
                try await ContinuousClock().sleep(for: .milliseconds(200))
            }
        }
        let final = try await service.require(id)
        if final.state == MissionDTO.crashed {
            throw FlotillaError.conflict(
                "mission \(id)'s process ended without finishing it; `flotilla resume \(id)` continues it"
            )
        }
        return final.stopReason.flatMap(StopReason.init(rawValue:))?.exitCode ?? 1
    }

    /// Runs `body` while redrawing the live view four times a second (for its clock).
    private func ticking<T: Sendable>(
        _ live: LiveView?,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws
        -> T
    {
        guard let live else { return try await body() }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while !Task.isCancelled {
                    try? await ContinuousClock().sleep(for: .milliseconds(250))
                    live.tick()
                }
                return nil
            }
            var outcome: T?
            while let next = try await group.next() {
                if let next {
                    outcome = next
                    group.cancelAll()
                }
            }
            guard let outcome else { throw CancellationError() }
            return outcome
        }
    }
}

extension MissionEvent {
    /// An event as the API carries it; nil for a kind this version does not know.
    init?(_ event: EventDTO) {
        guard let mission = MissionID(event.mission), let kind = EventKind(rawValue: event.kind) else { return nil }
        self.init(
            id: event.id,
            mission: mission,
            at: event.at,
            kind: kind,
            group: event.group,
            attempt: event.attempt,
            message: event.message,
            data: event.data
        )
    }
}

/// Turns Ctrl-C and SIGTERM into a graceful stop; a second Ctrl-C exits at once.
final class InterruptHandler {
    private let sources: [any DispatchSourceSignal]

    init(stop: CompletionSignal) {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if stop.isSignalled {
                    Console.err("\nstopping now")
                    exit(130)
                }
                Console.err("\nstopping: ending running attempts (Ctrl-C again to quit at once)")
                stop.signal()
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func restore() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
