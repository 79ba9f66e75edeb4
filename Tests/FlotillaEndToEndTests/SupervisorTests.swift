import FlotillaAPI
import FlotillaCore
import FlotillaStore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(
    "A mission whose process dies: crashed everywhere, resumed by the daemon within a limit",
    .tags(.large),
    .timeLimit(.minutes(10))
)
struct SupervisorTests {
    static let checklist = DaemonAPITests.checklist

    /// Group a's first attempt says it started and then hangs; every other attempt does its work.
    static func hangingAgent(_ ready: FIFOSignal) -> String {
        """
        #!/bin/sh
        if [ "$FLOTILLA_GROUP" = a ] && [ "$FLOTILLA_ATTEMPT" = 1 ]; then
            echo started > \(ready.path)
            sleep 600 &
            wait
        fi
        echo "$FLOTILLA_GROUP ok" > "$FLOTILLA_GROUP.txt"

        """
    }

    /// Creates a mission over the daemon's API whose agent runs `agent`.
    static func create(_ http: APIClient, agent: String, fixture: MissionFixture) async throws -> MissionDTO {
        let body =
            #"{"verify": "./verify.sh", "agent_command": "sh \#(agent)", "sandbox_write": ["\#(fixture.scratch.path)"]}"#
        let created = try await http.send("POST", "/missions", body: Data(body.utf8))
        #expect(created.status == 201, "\(created.text)")
        return try created.decode(MissionDTO.self)
    }

    /// Kills the mission's process as a crash would, and waits until it is gone.
    static func crash(_ id: MissionID, in fixture: MissionFixture) async throws {
        let audit = try await MissionAudit(fixture.repository)
        let runner = try #require(try await audit.ledger.mission(id)?.runner)
        kill(runner.pid, SIGKILL)
        #expect(await ProcessLiveness.waitForExit(runner.pid, timeout: .seconds(60)))
    }

    @Test func aKilledMissionShowsCrashedInStatusListTheAPIAndMetrics() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        defer { fixture.remove() }
        let ready = try FIFOSignal(in: fixture.scratch)
        let agent = try fixture.scratch.write("agent.sh", Self.hangingAgent(ready), executable: true)
        // A daemon that notices but does not restart: what a crash looks like stays in view.
        let daemon = try await RunningDaemon(
            ["--restart-limit", "0", "--check-interval", "0.1"],
            in: fixture.repository.path
        )
        let http = daemon.client()
        let mission = try await Self.create(http, agent: agent, fixture: fixture)
        #expect(await ready.firstLine() == "started")
        let id = try #require(MissionID(mission.id))
        try await Self.crash(id, in: fixture)

        #expect(try await http.send("GET", "/missions/\(id)").decode(MissionDTO.self).state == "crashed")
        let metrics = try Prometheus.parse(try await http.send("GET", "/metrics").text)
        #expect(metrics.value("flotilla_missions", ["state": "crashed"]) == 1)
        #expect(metrics.value("flotilla_missions", ["state": "running"]) == 0)
        let listed = try await FlotillaBinary.run(["list", "--output", "json"], in: fixture.repository.path)
        #expect(
            try APIJSON.decoder.decode([MissionDTO].self, from: Data(listed.standardOutput.utf8)).map(\.state) == [
                "crashed"
            ]
        )
        // Without the daemon, read from the ledger: the same, with what to do about it.
        let local = try await FlotillaBinary.run(
            ["status", id.rawValue],
            in: fixture.repository.path,
            environment: ["FLOTILLA_NO_DAEMON": "1"]
        )
        #expect(local.standardOutput.contains("Mission \(id) — crashed"), "\(local.standardOutput)")
        #expect(local.standardOutput.contains("`flotilla resume \(id)` continues it"))
        let attached = try await FlotillaBinary.run(["attach", id.rawValue], in: fixture.repository.path)
        #expect(attached.exitCode == 2)
        #expect(attached.standardError.contains("ended without finishing it"), "\(attached.standardError)")

        // Resumed through the daemon, it completes.
        let resumed = try await FlotillaBinary.run(["resume", id.rawValue], in: fixture.repository.path)
        #expect(resumed.exitCode == 0, "\(resumed.standardError)")
        #expect(try await http.send("GET", "/missions/\(id)").decode(MissionDTO.self).state == "completed")
        #expect(await MissionProcesses.waitUntilNoneRuns(id) == [])
        #expect(await daemon.stop() == 0)
    }

    @Test func aRunningDaemonResumesAMissionWhoseProcessDiedAndItCompletes() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        defer { fixture.remove() }
        let ready = try FIFOSignal(in: fixture.scratch)
        let agent = try fixture.scratch.write("agent.sh", Self.hangingAgent(ready), executable: true)
        let daemon = try await RunningDaemon(["--check-interval", "0.1"], in: fixture.repository.path)
        let http = daemon.client()
        let mission = try await Self.create(http, agent: agent, fixture: fixture)
        #expect(await ready.firstLine() == "started")
        let id = try #require(MissionID(mission.id))
        try await Self.crash(id, in: fixture)

        // The stream stays open across the restart and ends with the mission.
        let streamed = try await EventCollector.collect(http, mission: id.rawValue)
        let kinds = streamed.events.map(\.kind)
        let crashed = try #require(streamed.events.first { $0.kind == "mission.crashed" })
        #expect(crashed.payload(MissionEvent.MissionCrashed.self)?.restart == 1, "\(crashed.message)")
        #expect(kinds.suffix(from: kinds.firstIndex(of: "mission.crashed") ?? 0).contains("mission.recovered"))
        let done = try await http.send("GET", "/missions/\(id)").decode(MissionDTO.self)
        #expect(done.state == "completed", "\(kinds)")
        let history = try await http.send("GET", "/missions/\(id)/attempts").decode(HistoryDTO.self)
        #expect(history.attempts.first { $0.group == "a" && $0.number == 1 }?.outcome == "interrupted")
        #expect(await MissionProcesses.waitUntilNoneRuns(id) == [])
        #expect(daemon.errorOutput.contains("resumed \(id)"), "\(daemon.errorOutput)")
        #expect(await daemon.stop() == 0)
    }

    @Test func aMissionThatKeepsCrashingIsLeftCrashedAfterTheRestartLimit() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        defer { fixture.remove() }
        let agent = try fixture.scratch.write("agent.sh", DaemonAPITests.okAgent, executable: true)
        // Every process of the mission dies as soon as it has recorded its start.
        let daemon = try await RunningDaemon(
            ["--restart-limit", "2", "--restart-backoff", "0.1", "--check-interval", "0.1"],
            in: fixture.repository.path,
            environment: ["FLOTILLA_CRASH_AT": "checkpoint:mission.started"]
        )
        let http = daemon.client()
        let mission = try await Self.create(http, agent: agent, fixture: fixture)
        let id = try #require(MissionID(mission.id))

        let streamed = try await EventCollector.collect(http, mission: id.rawValue)
        #expect(streamed.ended)
        let notices = streamed.events.filter { $0.kind == "mission.crashed" }
        #expect(
            notices.map { $0.payload(MissionEvent.MissionCrashed.self)?.restart } == [1, 2, nil],
            "\(notices.map(\.message))"
        )
        #expect(streamed.events.filter { $0.kind == "mission.started" }.count == 3)
        #expect(notices.last?.message.contains("not restarting it again") == true)
        #expect(try await http.send("GET", "/missions/\(id)").decode(MissionDTO.self).state == "crashed")
        #expect(await MissionProcesses.waitUntilNoneRuns(id) == [])
        #expect(daemon.errorOutput.contains("not restarting it"), "\(daemon.errorOutput)")
        #expect(await daemon.stop() == 0)
    }
}
