import FlotillaAPI
import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("The daemon's queue: serve --max-running", .tags(.large), .timeLimit(.minutes(10)))
struct MissionQueueTests {
    @Test func threeWebhookMissionsUnderMaxRunningOneRunOneAfterAnother() async throws {
        let fixture = try await MissionFixture(checklist: "# One\n\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        // Each mission's agent waits on the pipe until the test lets it finish: what runs, and what waits, is
        // decided by the test, not by timing.
        let release = try FIFOWriter(in: fixture.scratch)
        let agent = try fixture.scratch.write(
            "agent.sh",
            "#!/bin/sh\nread line < \(release.path)\necho \"a ok\" > a.txt\n",
            executable: true
        )
        let tokens = try fixture.scratch.write(
            "tokens.json",
            #"{"tokens": [{"name": "ci", "token": "ci-token-0123456789", "burst": 100}]}"#
        )
        let daemon = try await RunningDaemon(
            ["--token-file", tokens, "--max-running", "1", "--check-interval", "0.1"],
            in: fixture.repository.path
        )
        let ci = daemon.client(token: "ci-token-0123456789")
        let body =
            #"{"repository": "\#(fixture.repository.path)", "verify": "./verify.sh", "agent_command": "sh \#(agent)", "sandbox_write": ["\#(fixture.scratch.path)"]}"#
        var ids: [String] = []
        for _ in 0..<3 {
            let response = try await ci.send("POST", "/webhook", body: Data(body.utf8))
            #expect(response.status == 202, "\(response.text)")
            ids.append(try response.decode(MissionDTO.self).id)
        }
        func state(_ id: String) async throws -> String {
            try await ci.send("GET", "/missions/\(id)").decode(MissionDTO.self).state
        }
        // The first runs (its agent waits on the pipe); the other two wait their turn, in the order they came.
        #expect(try await state(ids[0]) == "running")
        #expect(try await state(ids[1]) == "queued")
        #expect(try await state(ids[2]) == "queued")
        let listed = try await FlotillaBinary.run(
            ["list", "--state", "queued", "--output", "json"],
            in: fixture.repository.path
        )
        #expect(listed.exitCode == 0, "\(listed.standardError)")
        for id in ids[1...] { #expect(listed.standardOutput.contains(id), "\(listed.standardOutput)") }
        #expect(!listed.standardOutput.contains(ids[0]))

        // Each release lets the running one finish; the next starts only then.
        for id in ids {
            try await release.send("go")
            _ = try await EventCollector.collect(ci, mission: id)
            #expect(try await state(id) == "completed")
        }
        let audit = try await MissionAudit(fixture.repository)
        var records: [MissionRecord] = []
        for id in ids {
            let mission = try #require(MissionID(id))
            records.append(try #require(try await audit.ledger.mission(mission)))
        }
        // One after another: each started after the one before it finished.
        for (earlier, later) in zip(records, records.dropFirst()) {
            let finished = try #require(earlier.finishedAt)
            let started = try #require(later.startedAt)
            #expect(started >= finished, "\(later.spec.id) started before \(earlier.spec.id) finished")
        }
        // Queued, then let through: both recorded as events of the missions that waited.
        for id in ids[1...] {
            let events = try await audit.ledger.events(of: try #require(MissionID(id)), after: 0, limit: 1000)
            let kinds = events.map(\.kind)
            #expect(kinds.contains(.missionQueued) && kinds.contains(.missionDequeued), "\(kinds)")
        }
        #expect(await daemon.stop() == 0)
    }
}
