import Crypto
import FlotillaAPI
import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// What a job carries besides its work (issue 28): tags, metadata and where it came from, found again with `list`;
/// a callback that receives the result, signed; a daily spending limit across the repository's missions; and `gc`.
@Suite("Jobs: tags, metadata, source, callback, daily limit and gc", .tags(.large), .timeLimit(.minutes(10)))
struct MissionFieldsOfJobsTests {
    static let oneGroup = "# One\n\n## A\n- [ ] a\n"
    static let secret = "callback-signing-secret"

    @Test func aWebhookMissionCarriesItsTagsAndMetadataAndItsCallbackGetsTheResultSigned() async throws {
        let fixture = try await MissionFixture(checklist: Self.oneGroup, groups: ["a"])
        defer { fixture.remove() }
        try await NotificationReceiver.serving { receiver, port in
            let tokens = try fixture.scratch.write(
                "tokens.json",
                #"{"tokens": [{"name": "ci", "token": "ci-token-0123456789", "burst": 100}]}"#
            )
            let daemon = try await RunningDaemon(
                ["--token-file", tokens],
                in: fixture.repository.path,
                environment: ["FLOTILLA_CALLBACK_SECRET": Self.secret]
            )
            let ci = daemon.client(token: "ci-token-0123456789")
            let agent = try fixture.scratch.write("agent.sh", "#!/bin/sh\necho 'a ok' > a.txt\n", executable: true)
            let body = """
                {"verify": "./verify.sh", "agent_command": "sh \(agent)", "sandbox_write": ["\(fixture.scratch.path)"],
                 "tags": ["nightly", "team:web"], "metadata": {"ticket": "WEB-42", "requester": "ana"},
                 "callback_url": "http://127.0.0.1:\(port)/done"}
                """
            let response = try await ci.send("POST", "/webhook", body: Data(body.utf8))
            #expect(response.status == 202, "\(response.text)")
            let created = try response.decode(MissionDTO.self)
            #expect(created.tags == ["nightly", "team:web"])
            #expect(created.metadata == ["ticket": "WEB-42", "requester": "ana"])
            #expect(created.source == "webhook")
            _ = try await EventCollector.collect(ci, mission: created.id)

            // The result reaches the callback once, signed over "TIMESTAMP.BODY" as a webhook notification is.
            #expect(await receiver.waitForRequests(1, timeout: .seconds(120)))
            let delivered = try #require(await receiver.received.first)
            #expect(delivered.path == "/done")
            let timestamp = try #require(delivered.headers["x-flotilla-timestamp"])
            let code = HMAC<SHA256>.authenticationCode(
                for: Data("\(timestamp).".utf8) + delivered.body,
                using: SymmetricKey(data: Data(Self.secret.utf8))
            )
            #expect(
                delivered.headers["x-flotilla-signature"] == "sha256="
                    + code.map { String(format: "%02x", $0) }.joined()
            )
            let result = try #require(try JSONSerialization.jsonObject(with: delivered.body) as? [String: Any])
            #expect(result["mission"] as? String == created.id)
            #expect(result["category"] as? String == "completed")
            #expect(result["event"] as? String == "mission.finished")
            #expect(result["metadata"] as? [String: String] == ["ticket": "WEB-42", "requester": "ana"])
            #expect(result["tags"] as? [String] == ["nightly", "team:web"])

            // Found again by tag and source, through the API and `list`.
            let tagged = try await ci.send("GET", "/missions?tag=nightly&tag=team:web").decode(MissionListDTO.self)
            #expect(tagged.missions.map(\.id) == [created.id])
            let other = try await ci.send("GET", "/missions?tag=nightly&tag=other").decode(MissionListDTO.self)
            #expect(other.missions.isEmpty)
            let byCLI = try await ci.send("GET", "/missions?source=cli").decode(MissionListDTO.self)
            #expect(byCLI.missions.isEmpty)
            let badState = try await ci.send("GET", "/missions?state=sleeping")
            #expect(badState.status == 400, "\(badState.text)")
            let listed = try await FlotillaBinary.run(
                ["list", "--tag", "team:web", "--source", "webhook", "--output", "json"],
                in: fixture.repository.path
            )
            #expect(listed.exitCode == 0 && listed.standardOutput.contains(created.id), "\(listed.standardError)")
            let none = try await FlotillaBinary.run(["list", "--source", "mcp"], in: fixture.repository.path)
            #expect(none.standardOutput.contains("No missions match."), "\(none.standardOutput)")

            // Where a mission came from is Flotilla's to say; bad tags and metadata are named.
            for (bad, field) in [
                (#"{"source": "schedule:nightly"}"#, "source"),
                (#"{"tags": ["has space"]}"#, "tags[0]"),
                (#"{"metadata": {"ticket": 42}}"#, "metadata"),
                (#"{"callback_url": "ftp://example.com/x"}"#, "callback_url"),
            ] {
                let refused = try await ci.send("POST", "/missions", body: Data(bad.utf8))
                #expect(refused.status == 400, "\(bad): \(refused.text)")
                #expect(refused.text.contains(field), "\(bad): \(refused.text)")
            }
            #expect(await daemon.stop() == 0)
        }
    }

    @Test func theCommandLineTagsItsMissionsAndACallbackWithoutItsSecretCreatesNothing() async throws {
        let fixture = try await MissionFixture(checklist: Self.oneGroup, groups: ["a"])
        defer { fixture.remove() }
        let agent = try fixture.scratch.write("agent.sh", "#!/bin/sh\necho 'a ok' > a.txt\n", executable: true)
        let refused = try await fixture.run([
            "--agent-command", "sh \(agent)", "--callback-url", "http://127.0.0.1:9/done",
        ])
        #expect(refused.exitCode == 2, "\(refused.standardError)")
        #expect(refused.standardError.contains("FLOTILLA_CALLBACK_SECRET"), "\(refused.standardError)")
        let badMeta = try await fixture.run(["--agent-command", "sh \(agent)", "--meta", "no-equals-sign"])
        #expect(badMeta.exitCode == 2 && badMeta.standardError.contains("--meta no-equals-sign"))
        let nothing = try await FlotillaBinary.run(["list", "--output", "json"], in: fixture.repository.path)
        #expect(try APIJSON.decoder.decode([MissionDTO].self, from: Data(nothing.standardOutput.utf8)).isEmpty)

        let outcome = try await fixture.run([
            "--agent-command", "sh \(agent)", "--tag", "release", "--meta", "ticket=REL-7", "--meta", "note=a=b",
        ])
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let listed = try await FlotillaBinary.run(
            ["list", "--tag", "release", "--source", "cli", "--output", "json"],
            in: fixture.repository.path
        )
        let missions = try APIJSON.decoder.decode([MissionDTO].self, from: Data(listed.standardOutput.utf8))
        #expect(missions.count == 1)
        #expect(missions.first?.metadata == ["ticket": "REL-7", "note": "a=b"])
        #expect(missions.first?.source == "cli")
    }

    @Test func theDailyLimitStopsMissionsOnceTheRepositorysMissionsSpentItTogether() async throws {
        let twoGroups = "# Two\n\n## A\n- [ ] a\n\n## B\n- [ ] b\n"
        let fixture = try await MissionFixture(
            checklist: twoGroups,
            groups: ["a", "b"],
            extraFiles: ["flotilla.toml": "[limits]\ndaily_cost_usd = 2.5\n"]
        )
        defer { fixture.remove() }
        // Every session says it spent one dollar.
        let agent = try fixture.scratch.write(
            "agent.sh",
            "#!/bin/sh\necho \"$FLOTILLA_GROUP ok\" > \"$FLOTILLA_GROUP.txt\"\n"
                + "echo '{\"cost_usd\": 1.0, \"message\": \"done\"}'\n",
            executable: true
        )
        let arguments = ["--agent-command", "sh \(agent)", "--agents", "1"]
        // The first mission spends two dollars, under the day's 2.50.
        let first = try await fixture.run(arguments)
        #expect(first.exitCode == 0, "\(first.standardOutput)\(first.standardError)")
        // The second may start one attempt (2.00 + 1.00 is over 2.50 only once it is spent), then stops.
        let second = try await fixture.run(arguments)
        #expect(second.exitCode == 5, "\(second.standardOutput)\(second.standardError)")
        let audit = try await fixture.audit()
        #expect(try await audit.attempts().count == 1)
        #expect(audit.mission.stopReason == .maxCost)
        #expect(
            audit.mission.breakerDetail?.contains("daily_cost_usd $2.50") == true,
            "\(audit.mission.breakerDetail ?? "")"
        )
        // A third starts nothing: the day is spent, whatever its own max_cost_usd allows.
        let third = try await fixture.run(arguments)
        #expect(third.exitCode == 5)
        #expect(try await fixture.audit().attempts().isEmpty)

        // A mistake in [limits] names the file and line, and creates nothing.
        try "[limits]\ndaily_cost = 1\n".write(
            toFile: fixture.repository.path + "/flotilla.toml",
            atomically: true,
            encoding: .utf8
        )
        let bad = try await fixture.run(arguments)
        #expect(bad.exitCode == 2)
        #expect(
            bad.standardError.contains("flotilla.toml:2") && bad.standardError.contains("limits.daily_cost"),
            "\(bad.standardError)"
        )
    }

    @Test func gcRemovesTheFilesOfMissionsThatEndedLongAgoAndKeepsTheirLedgerRows() async throws {
        let twoGroups = "# Two\n\n## A\n- [ ] a\n\n## B\n- [ ] b\n"
        let fixture = try await MissionFixture(checklist: twoGroups, groups: ["a", "b"])
        defer { fixture.remove() }
        let agent = try fixture.scratch.write(
            "agent.sh",
            "#!/bin/sh\necho \"$FLOTILLA_GROUP ok\" > \"$FLOTILLA_GROUP.txt\"\n",
            executable: true
        )
        // One mission ends completed; another pauses after one attempt (`step`); a third is created, not started.
        let completed = try await fixture.run(["--agent-command", "sh \(agent)"])
        #expect(completed.exitCode == 0, "\(completed.standardError)")
        let done = try await fixture.audit().id.rawValue
        func created() async throws -> String {
            let outcome = try await fixture.run([
                "--agent-command", "sh \(agent)", "--agents", "1", "--no-start", "--output", "json",
            ])
            let object = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
            return try #require(object?["id"] as? String, "\(outcome.standardError)")
        }
        let paused = try await created()
        let stepped = try await FlotillaBinary.run(["step", paused, "--attempts", "1"], in: fixture.repository.path)
        #expect(stepped.exitCode == 4, "\(stepped.standardError)")
        let waiting = try await created()
        let folder = { (id: String) in fixture.repository.path + "/.flotilla/missions/" + id }

        // Nothing ended more than an hour ago: nothing goes.
        let young = try await FlotillaBinary.run(["gc", "--older-than", "1h"], in: fixture.repository.path)
        #expect(young.exitCode == 0 && young.standardOutput.contains("No mission ended"), "\(young.standardOutput)")
        let dry = try await FlotillaBinary.run(
            ["gc", "--older-than", "0s", "--dry-run", "--output", "json"],
            in: fixture.repository.path
        )
        #expect(dry.standardOutput.contains(done) && dry.standardOutput.contains(paused), "\(dry.standardOutput)")
        #expect(FileManager.default.fileExists(atPath: folder(done)))

        let collected = try await FlotillaBinary.run(["gc", "--older-than", "0s"], in: fixture.repository.path)
        #expect(collected.exitCode == 0, "\(collected.standardError)")
        #expect(collected.standardOutput.contains("removed the files of 2 missions"), "\(collected.standardOutput)")
        #expect(!FileManager.default.fileExists(atPath: folder(done)))
        #expect(!FileManager.default.fileExists(atPath: folder(paused)))
        #expect(FileManager.default.fileExists(atPath: folder(waiting)), "a mission not started keeps its files")

        // The ledger still answers for them.
        for command in [["status", done], ["history", done], ["report", done]] {
            let outcome = try await FlotillaBinary.run(command, in: fixture.repository.path)
            #expect(outcome.exitCode == 0, "\(command): \(outcome.standardError)")
        }
        // And the paused one goes on from its ledger: the next step finishes it.
        let resumed = try await FlotillaBinary.run(["step", paused], in: fixture.repository.path)
        #expect(resumed.exitCode == 0, "\(resumed.standardOutput)\(resumed.standardError)")
        let bad = try await FlotillaBinary.run(["gc", "--older-than", "7 days"], in: fixture.repository.path)
        #expect(bad.exitCode == 2 && bad.standardError.contains("--older-than"), "\(bad.standardError)")
    }
}
