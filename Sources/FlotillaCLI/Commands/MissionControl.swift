import ArgumentParser
import FlotillaAPI
import FlotillaCore
import FlotillaEngine
import FlotillaStore
import Foundation

extension Flotilla {
    struct MissionResume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume",
            abstract: "Continue a stopped or crashed mission, repairing what a crash left behind.",
            discussion: """
                Ends processes the last run left running, removes its worktrees, completes or rolls back a landing \
                caught half-way, interrupts attempts caught running and keeps those waiting to land, then carries on. \
                Time spent stopped does not count against --timeout.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Flag(help: "Continue in the background and print the mission id.")
        var detach = false

        func run() async throws {
            let code = try await Continuation(global: global, id: id, detach: detach).run()
            if code != 0 { throw MissionExit(code: code) }
        }
    }

    struct MissionApprove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "approve",
            abstract: "Release a mission waiting for a human: blocked groups may be attempted again, then it resumes.",
            discussion: """
                A group is blocked when its attempts kept failing without progress; its dependents are blocked with \
                it. Fix what the attempts could not (see `flotilla history ID`), then approve: the groups' stall \
                counts start over and the mission resumes.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Option(name: .customLong("group"), help: "Release only this group (repeatable); default: every blocked group.")
        var groups: [String] = []

        @Flag(help: "Resume in the background and print the mission id.")
        var detach = false

        func run() async throws {
            let lookup = try await MissionLookup(repo: global.repo)
            if let daemon = try DaemonConnection.client(for: lookup) {
                let approval = try await DaemonConnection.call { try await daemon.approve(id, groups: groups) }
                Console.err(
                    approval.released.isEmpty
                        ? "mission \(id) has no blocked group to approve"
                        : "approved: \(approval.released.joined(separator: ", "))"
                )
                let code = try await Continuation.throughDaemon(daemon, id: id, detach: detach, output: global.output)
                if code != 0 { throw MissionExit(code: code) }
                return
            }
            let (ledger, record) = try await lookup.mission(id)
            let released: [String]
            do {
                released = try await lookup.controlRunner(ledger, for: record).approve(record.spec.id, groups: groups)
            } catch let error as EngineError {
                throw FlotillaError.invalid(error.description)
            }
            if released.isEmpty {
                Console.err("mission \(record.spec.id) has no blocked group to approve")
            } else {
                Console.err("approved: \(released.joined(separator: ", "))")
            }
            let code = try await Continuation(global: global, id: id, detach: detach).run()
            if code != 0 { throw MissionExit(code: code) }
        }
    }

    struct MissionStop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop",
            abstract: "Stop a running mission gracefully: running attempts are ended and recorded, nothing half-lands.",
            discussion: """
                Asks the mission's process to stop and waits for it (--wait). If it does not stop in time it is \
                killed, and what it left is repaired as `resume` would. Resume the mission later with \
                `flotilla resume ID`.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx).")
        var id: String

        @Option(help: "Seconds to wait for a graceful stop before killing the mission's process.")
        var wait: Double = 60

        func run() async throws {
            let lookup = try await MissionLookup(repo: global.repo)
            if let daemon = try DaemonConnection.client(for: lookup) {
                do {
                    let mission = try await daemon.stop(id, waitSeconds: wait)
                    Console.out("mission \(mission.id) \(mission.state)")
                } catch let error as DaemonError where error.status == 409 {
                    Console.err(error.message)
                }
                return
            }
            let (ledger, record) = try await lookup.mission(id)
            Console.out(
                try await lookup.stop(ledger, record, wait: .seconds(bounded: wait)) { Console.err($0) }
            )
        }
    }

    struct MissionAttach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attach",
            abstract: "Follow a running mission until it ends; Ctrl-C detaches and leaves it running.",
            discussion: "Exits with the mission's own exit status when it ends."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The mission id (m-xxxxxxxx); default: the latest mission.")
        var id: String?

        func run() async throws {
            let lookup = try await MissionLookup(repo: global.repo)
            let (ledger, record) = try await lookup.mission(id)
            let mission = record.spec.id
            let live =
                global.output == .table && lookup.composition.isInteractiveTerminal ? LiveView(spec: record.spec) : nil
            let printer: any MissionEventSink =
                live ?? EventLinePrinter(origin: record.createdAt, toStandardError: global.output == .json)
            var last: Int64 = 0
            let clock = ContinuousClock()
            while true {
                let events = try await ledger.events(of: mission, after: last, limit: 500)
                for event in events {
                    if global.output == .json, let line = try? EventsFileSink.encoder.encode(event) {
                        FileHandle.standardOutput.write(line + Data("\n".utf8))
                    } else {
                        printer.publish(event)
                    }
                }
                last = events.last?.id ?? last
                if events.count == 500 { continue }
                guard let current = try await ledger.mission(mission) else { return }
                if current.state.isTerminal {
                    let code = current.stopReason?.exitCode ?? 1
                    if code != 0 { throw MissionExit(code: code) }
                    return
                }
                if current.state == .running, let runner = current.runner,
                    !lookup.composition.processTable.isRunning(runner)
                {
                    throw FlotillaError.invalid(
                        "mission \(mission)'s process \(runner.pid) ended without finishing it; "
                            + "`flotilla resume \(mission)` continues it"
                    )
                }
                live?.tick()
                // The mission runs in another process: its events are read from the ledger as they land.
                try await clock.sleep(for: .milliseconds(200))
            }
        }
    }
}

/// Continues a mission by id, in this process or in the background (resume, approve).
private struct Continuation {
    let global: GlobalOptions
    let id: String
    let detach: Bool

    func run() async throws -> Int32 {
        let lookup = try await MissionLookup(repo: global.repo)
        if let daemon = try DaemonConnection.client(for: lookup) {
            _ = try await DaemonConnection.call { try await daemon.resume(id) }
            return try await Self.throughDaemon(daemon, id: id, detach: detach, output: global.output)
        }
        let (_, record) = try await lookup.mission(id)
        let mission = record.spec.id
        // A completed mission still goes to the engine: it tidies what a crash after the end left behind.
        if record.state == .running, let runner = record.runner, lookup.composition.processTable.isRunning(runner) {
            throw FlotillaError.invalid(
                "mission \(mission) is running in process \(runner.pid); follow it with `flotilla attach \(mission)`"
            )
        }
        let launch = MissionLaunch(composition: lookup.composition, root: lookup.root, output: global.output)
        if detach {
            let pid = try launch.runInBackground(mission)
            switch global.output {
            case .json: Console.json(["id": mission.rawValue, "pid": String(pid)])
            case .table:
                Console.out("\(mission)")
                Console.err("running in the background (process \(pid)); follow it with `flotilla attach \(mission)`")
            }
            return 0
        }
        return try await launch.runForeground(mission)
    }

    /// After the daemon resumed a mission: print its id, or follow it to its end.
    static func throughDaemon(
        _ daemon: DaemonClient,
        id: String,
        detach: Bool,
        output: OutputFormat
    ) async throws
        -> Int32
    {
        if detach {
            switch output {
            case .json: Console.json(["id": id])
            case .table:
                Console.out(id)
                Console.err("running under the daemon; follow it with `flotilla logs -f \(id)`")
            }
            return 0
        }
        return try await DaemonConnection.follow(id, client: daemon, output: output)
    }
}

extension MissionLookup {
    /// Stops a running mission gracefully, and by force after `wait`.
    ///
    /// Asks its process to stop, waits, kills it if need be and records what the dead process could not. Returns a one-line result; `progress` hears about the waiting.
    func stop(
        _ ledger: SQLiteLedger,
        _ record: MissionRecord,
        wait: Duration,
        progress: (String) -> Void
    ) async throws -> String {
        let table = composition.processTable
        let mission = record.spec.id
        guard record.state == .running else { return "mission \(mission) is not running (\(record.state.rawValue))" }
        if let runner = record.runner, table.isRunning(runner) {
            _ = table.requestStop(runner)
            progress("asked process \(runner.pid) to stop; waiting up to \(wait.shortDescription)…")
            if await table.waitForExit(runner, timeout: wait) {
                if try await ledger.mission(mission)?.state.isTerminal == true { return "mission \(mission) stopped" }
            } else {
                _ = table.kill(runner)
                _ = await table.waitForExit(runner, timeout: .seconds(10))
                progress("process \(runner.pid) did not stop in time and was killed")
            }
        }
        // The process is gone without recording its end (killed, or crashed before): repair and record it.
        try await controlRunner(ledger, for: record).settle(
            mission,
            as: .stopped,
            summary: "stopped by the user; its process had to be ended"
        )
        return "mission \(mission) stopped"
    }

    /// A runner for controlling a mission (stop, approve), which never runs an attempt.
    ///
    /// What it records goes to the mission's files too.
    func controlRunner(_ ledger: SQLiteLedger, for record: MissionRecord) -> MissionRunner {
        MissionRunner(
            ports: MissionRunner.Ports(
                ledger: ledger,
                git: composition.git(root),
                agent: NoAgent(),
                processes: composition.processes,
                processTable: composition.processTable
            ),
            options: MissionRunner.Options(environment: composition.childEnvironment()),
            layout: layout,
            sink: EventBus([
                EventsFileSink(path: layout.eventsFile(record.spec.id)),
                MissionLogSink(path: layout.missionLog(record.spec.id), origin: record.createdAt),
            ])
        )
    }
}
