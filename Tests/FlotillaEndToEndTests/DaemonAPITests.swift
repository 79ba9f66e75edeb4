import FlotillaAPI
import FlotillaCore
import FlotillaStore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("flotilla serve: the HTTP API on a real server", .tags(.large), .timeLimit(.minutes(10)))
struct DaemonAPITests {
    static let checklist = "# Two files\n\n## A\n- [ ] a\n\n## B\nDepends on: a\n- [ ] b\n"
    static let okAgent = "#!/bin/sh\necho \"$FLOTILLA_GROUP ok\" > \"$FLOTILLA_GROUP.txt\"\n"

    @Test func aMissionCreatedOverHTTPRunsAndEveryReadRouteShowsIt() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        defer { fixture.remove() }
        let agent = try fixture.scratch.write("agent.sh", Self.okAgent, executable: true)
        let daemon = try await RunningDaemon([], in: fixture.repository.path)
        let http = daemon.client()

        #expect(try await http.send("GET", "/health").status == 200)
        #expect(try await http.send("GET", "/ready").status == 200)
        let openAPI = try await http.send("GET", "/openapi.json")
        #expect(openAPI.status == 200)
        let document = try JSONSerialization.jsonObject(with: openAPI.body) as? [String: Any]
        #expect((document?["paths"] as? [String: Any])?["/webhook"] != nil)
        let before = try Prometheus.parse(try await http.send("GET", "/metrics").text)
        #expect(before.value("flotilla_missions", ["state": "completed"]) == 0)
        #expect(try await http.send("GET", "/missions").decode(MissionListDTO.self).missions.isEmpty)

        let body = #"{"verify": "./verify.sh", "agent_command": "sh \#(agent)", "agents": 2}"#
        let created = try await http.send("POST", "/missions", body: Data(body.utf8))
        #expect(created.status == 201, "\(created.text)")
        let mission = try created.decode(MissionDTO.self)
        #expect(created.header("Location") == "/missions/\(mission.id)")
        #expect(mission.groupsTotal == 2)

        // The live stream carries every event and ends with the mission.
        let streamed = try await EventCollector.collect(http, mission: mission.id)
        #expect(streamed.ended)
        #expect(streamed.events.map(\.kind).contains("mission.finished"), "\(streamed.events.map(\.kind))")
        let ids = streamed.events.map(\.id)
        #expect(ids == ids.sorted() && Set(ids).count == ids.count)

        let finished = try await http.send("GET", "/missions/\(mission.id)").decode(MissionDTO.self)
        #expect(finished.state == "completed")
        #expect(finished.groups?.map(\.status) == ["done", "done"])
        #expect(finished.targetHead == (await fixture.repository.resolve("refs/heads/\(finished.targetBranch)")))

        // Resuming from the middle with Last-Event-ID yields exactly the rest.
        let middle = ids[ids.count / 2]
        let resumed = try await EventCollector.collect(http, mission: mission.id, lastEventID: middle)
        #expect(resumed.events.map(\.id) == ids.filter { $0 > middle })

        let listed = try await http.send("GET", "/missions").decode(MissionListDTO.self).missions
        #expect(listed.map(\.id) == [mission.id])
        let attempts = try await http.send("GET", "/missions/\(mission.id)/attempts").decode(HistoryDTO.self)
        #expect(attempts.attempts.map(\.outcome) == ["landed", "landed"])
        // One attempt with what it left: its prompt, diff and gate output, as the dashboard shows them.
        let detail = try await http.send("GET", "/missions/\(mission.id)/attempts/1").decode(AttemptDetailDTO.self)
        #expect(detail.attempt.sequence == 1 && detail.prompt?.contains("## Your group") == true)
        #expect(detail.diff?.contains("+\(detail.attempt.group) ok") == true, "\(detail.diff ?? "no diff")")
        #expect(detail.gateOutput?.contains("ok \(detail.attempt.group)") == true)
        #expect(try await http.send("GET", "/missions/\(mission.id)/attempts/9").status == 404)
        #expect(try await http.send("GET", "/missions/\(mission.id)/attempts/0").status == 400)
        // The dashboard, and what keeps other sites out: a foreign Host (DNS rebinding), a cross-site action.
        let dashboard = try await http.send("GET", "/")
        #expect(dashboard.status == 200 && dashboard.text.contains(#"<script type="module" src="/assets/main.js">"#))
        // Every module the page imports is served, with the page's policy.
        for module in ["main.js", "api.js", "dom.js", "live.js", "mission-view.js", "attempt-view.js"] {
            let asset = try await http.send("GET", "/assets/\(module)")
            #expect(
                asset.status == 200 && asset.header("Content-Type")?.hasPrefix("text/javascript") == true,
                "\(module)"
            )
        }
        #expect(dashboard.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        let rebound = try await http.send("GET", "/missions", headers: [("Host", "evil.example:8470")])
        #expect(rebound.status == 403, "\(rebound.text)")
        let crossSite = try await http.send(
            "POST",
            "/missions/\(mission.id)/resume",
            headers: [("Origin", "http://evil.example"), ("Sec-Fetch-Site", "cross-site")]
        )
        #expect(try crossSite.decode(ErrorDTO.self).error.code == "cross_site")
        // What the document does not allow is refused, naming the parameter; a method a path does not take is 405.
        let badLimit = try await http.send("GET", "/missions/\(mission.id)/events?limit=0")
        #expect(badLimit.status == 400)
        #expect(try badLimit.decode(ErrorDTO.self).error.fields?.first?.field == "limit")
        let badStream = try await http.send("GET", "/missions/\(mission.id)/stream", headers: [("Last-Event-ID", "x")])
        #expect(badStream.status == 400)
        let extra = try await http.send(
            "POST",
            "/missions/\(mission.id)/approve",
            body: Data(#"{"groups": [], "x": 1}"#.utf8)
        )
        #expect(extra.status == 400)
        let delete = try await http.send("DELETE", "/missions/\(mission.id)")
        #expect(delete.status == 405 && delete.header("Allow") == "GET", "\(delete.status)")
        #expect(try await http.send("PUT", "/missions").header("Allow") == "GET, POST")
        let page = try await http.send("GET", "/missions/\(mission.id)/events?after=\(ids[1])&limit=2")
            .decode(EventListDTO.self)
        #expect(page.events.map(\.id) == Array(ids[2..<4]))
        let checklist = try await http.send("GET", "/missions/\(mission.id)/checklist").decode(ChecklistDTO.self)
        #expect(checklist.markdown.contains("## B"))
        #expect(checklist.checklist["groups"] != nil)

        // Stopping a finished mission is refused; an unknown mission or route is a 404, in the error shape.
        let stop = try await http.send("POST", "/missions/\(mission.id)/stop")
        #expect(stop.status == 409)
        #expect(try stop.decode(ErrorDTO.self).error.code == "conflict")
        #expect(try await http.send("GET", "/missions/m-00000000").status == 404)
        #expect(try await http.send("GET", "/missions/not-an-id/attempts").status == 404)
        #expect(try await http.send("GET", "/nowhere").decode(ErrorDTO.self).error.code == "not_found")

        // The counters moved with the mission.
        let after = try Prometheus.parse(try await http.send("GET", "/metrics").text)
        #expect(after.value("flotilla_missions", ["state": "completed"]) == 1)
        #expect(after.value("flotilla_attempts_total", ["outcome": "landed"]) == 2)
        #expect(after.value("flotilla_gate_duration_seconds_count", [:]) == 2)
        #expect(after.value("flotilla_merge_duration_seconds_count", [:]) == 2)
        #expect(after.value("flotilla_active_agents", [:]) == 0)
        #expect(after.value("flotilla_merge_queue_depth", [:]) == 0)
        #expect((after.value("flotilla_http_requests_total", ["route": "/missions", "status": "201"]) ?? 0) == 1)
        #expect(await daemon.stop() == 0)
    }

    @Test func stopResumeAndApproveControlLiveMissions() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        defer { fixture.remove() }
        let ready = try FIFOSignal(in: fixture.scratch)
        let fixed = fixture.scratch.file("fixed")
        // a's first attempt hangs until stopped; after the resume, b fails until the test "fixes" it.
        let agent = try fixture.scratch.write(
            "agent.sh",
            """
            #!/bin/sh
            if [ "$FLOTILLA_GROUP" = a ] && [ "$FLOTILLA_ATTEMPT" = 1 ]; then
                echo started > \(ready.path)
                sleep 600 &
                wait
            fi
            if [ "$FLOTILLA_GROUP" = b ] && [ ! -f \(fixed) ]; then exit 1; fi
            echo "$FLOTILLA_GROUP ok" > "$FLOTILLA_GROUP.txt"

            """,
            executable: true
        )
        let daemon = try await RunningDaemon([], in: fixture.repository.path)
        let http = daemon.client()
        let body =
            #"{"verify": "./verify.sh", "agent_command": "sh \#(agent)", "stall_threshold": 1, "sandbox_write": ["\#(fixture.scratch.path)"]}"#
        let mission = try await http.send("POST", "/missions", body: Data(body.utf8)).decode(MissionDTO.self)
        #expect(await ready.firstLine() == "started")

        // A running mission waits for no human: approving it is a conflict, not a bad request.
        let early = try await http.send("POST", "/missions/\(mission.id)/approve", body: Data("{}".utf8))
        #expect(early.status == 409, "\(early.text)")
        #expect(try early.decode(ErrorDTO.self).error.code == "conflict")
        // Nor is there anything to reject; and a rejection without a reason is a bad request naming the field.
        let reject = "/missions/\(mission.id)/reject"
        let nothing = try await http.send("POST", reject, body: Data(#"{"reason": "no"}"#.utf8))
        #expect(nothing.status == 409 && nothing.text.contains("waits for approval"), "\(nothing.text)")
        let reasonless = try await http.send("POST", reject, body: Data(#"{"groups": ["a"]}"#.utf8))
        #expect(reasonless.status == 400, "\(reasonless.text)")
        #expect(try reasonless.decode(ErrorDTO.self).error.fields?.map(\.field) == ["reason"])

        // The CLI's stop and resume go through the daemon while it runs.
        let repository = fixture.repository.path
        let stopped = try await FlotillaBinary.run(["stop", mission.id, "--wait", "120"], in: repository)
        #expect(stopped.exitCode == 0, "\(stopped.standardError)")
        #expect(stopped.standardOutput.contains("\(mission.id) stopped"), "\(stopped.standardOutput)")
        let afterStop = try await http.send("GET", "/missions/\(mission.id)").decode(MissionDTO.self)
        #expect(afterStop.state == "stopped")
        #expect(afterStop.groups?.first?.status != "done")

        // Resumed, a lands and b blocks: the mission waits for a human.
        let resumed = try await FlotillaBinary.run(["resume", mission.id, "--detach"], in: repository)
        #expect(resumed.exitCode == 0, "\(resumed.standardError)")
        let routes = try Prometheus.parse(try await http.send("GET", "/metrics").text)
        #expect(routes.value("flotilla_http_requests_total", ["route": "/missions/{id}/stop", "status": "200"]) == 1)
        #expect(routes.value("flotilla_http_requests_total", ["route": "/missions/{id}/resume", "status": "200"]) == 1)
        _ = try await EventCollector.collect(http, mission: mission.id)
        let blocked = try await http.send("GET", "/missions/\(mission.id)").decode(MissionDTO.self)
        #expect(blocked.state == "blocked", "\(blocked)")

        try "".write(toFile: fixed, atomically: true, encoding: .utf8)
        let approval = try await http.send("POST", "/missions/\(mission.id)/approve", body: Data("{}".utf8))
        #expect(approval.status == 200, "\(approval.text)")
        #expect(try approval.decode(ApprovalDTO.self).released == ["b"])
        _ = try await EventCollector.collect(http, mission: mission.id)
        let done = try await http.send("GET", "/missions/\(mission.id)").decode(MissionDTO.self)
        #expect(done.state == "completed")
        #expect(try await fixture.repository.worktrees().count == 1)
        // A completed mission takes no step, and an end the API does not know, or a completion without a reason, is a
        // bad request naming its field.
        let step = try await http.send("POST", "/missions/\(mission.id)/step?attempts=1")
        #expect(step.status == 409 && step.text.contains("cannot go on"), "\(step.text)")
        for (query, field) in [("end=complete", "reason"), ("end=abandon", "end")] {
            let bad = try await http.send("POST", "/missions/\(mission.id)/stop?\(query)")
            #expect(bad.status == 400, "\(bad.text)")
            #expect(try bad.decode(ErrorDTO.self).error.fields?.map(\.field) == [field])
        }
        #expect(await daemon.stop() == 0)
    }

    @Test func onStartTheDaemonResumesAMissionWhoseProcessWasKilled() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        defer { fixture.remove() }
        let ready = try FIFOSignal(in: fixture.scratch)
        let agent = try fixture.scratch.write(
            "agent.sh",
            """
            #!/bin/sh
            if [ "$FLOTILLA_GROUP" = a ] && [ "$FLOTILLA_ATTEMPT" = 1 ]; then
                echo started > \(ready.path)
                sleep 600 &
                wait
            fi
            echo "$FLOTILLA_GROUP ok" > "$FLOTILLA_GROUP.txt"

            """,
            executable: true
        )
        let repository = fixture.repository.path
        let detached = try await FlotillaBinary.run(
            [
                "run", "--sandbox-write", fixture.scratch.path, "--verify", "./verify.sh", "--agent-command",
                "sh \(agent)", "--detach",
            ],
            in: repository
        )
        #expect(detached.exitCode == 0, "\(detached.standardError)")
        #expect(await ready.firstLine() == "started")
        let audit = try await MissionAudit(fixture.repository)
        let runner = try #require(try await audit.ledger.mission(audit.id)?.runner)
        kill(runner.pid, SIGKILL)

        // The daemon finds the mission running with a dead process, and resumes it before it says it is ready.
        let daemon = try await RunningDaemon([], in: repository)
        #expect(daemon.errorOutput.contains("resumed \(audit.id)"), "\(daemon.errorOutput)")
        let http = daemon.client()
        let streamed = try await EventCollector.collect(http, mission: audit.id.rawValue)
        #expect(streamed.events.map(\.kind).contains("mission.recovered"))
        let done = try await http.send("GET", "/missions/\(audit.id)").decode(MissionDTO.self)
        #expect(done.state == "completed")
        let attempts = try await http.send("GET", "/missions/\(audit.id)/attempts").decode(HistoryDTO.self)
        #expect(attempts.attempts.first { $0.group == "a" && $0.number == 1 }?.outcome == "interrupted")
        #expect(try await fixture.repository.worktrees().count == 1)
        #expect(await daemon.stop() == 0)
    }

    @Test func theWebhookChecksTokensScopesRatesSizesBodiesAndRepeats() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        let other = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        defer {
            fixture.remove()
            other.remove()
        }
        let agent = try fixture.scratch.write("agent.sh", Self.okAgent, executable: true)
        let tokens = try fixture.scratch.write(
            "tokens.json",
            """
            {"tokens": [
              {"name": "ci", "token": "ci-token-0123456789", "burst": 100},
              {"name": "scoped", "token": "scoped-token-0123456789", "repositories": ["\(other.repository.path)"]},
              {"name": "slow", "token": "slow-token-0123456789", "rate_per_minute": 1, "burst": 2}
            ]}
            """
        )
        let daemon = try await RunningDaemon(
            [
                "--repo", fixture.repository.path, "--repo", other.repository.path, "--token-file", tokens,
                "--max-body-bytes", "4096",
            ],
            in: fixture.repository.path
        )
        let repository = fixture.repository.path
        let valid = #"{"repository": "\#(repository)", "verify": "./verify.sh", "agent_command": "sh \#(agent)"}"#
        let dryRun =
            #"{"repository": "\#(repository)", "agent_command": "sh \#(agent)", "verify": "./verify.sh", "dry_run": true}"#

        // Authentication: missing, wrong, right.
        let missing = try await daemon.anonymousClient().send("POST", "/webhook", body: Data(valid.utf8))
        #expect(missing.status == 401)
        #expect(missing.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        let wrong = try await daemon.client(token: "ci-token-0123456780").send(
            "POST",
            "/webhook",
            body: Data(valid.utf8)
        )
        #expect(wrong.status == 401)
        let ci = daemon.client(token: "ci-token-0123456789")
        #expect(try await ci.send("POST", "/webhook", body: Data(dryRun.utf8)).status == 200)

        // Scope: a token limited to the other repository cannot start missions here, but can there.
        let scoped = daemon.client(token: "scoped-token-0123456789")
        let outside = try await scoped.send("POST", "/webhook", body: Data(dryRun.utf8))
        #expect(outside.status == 403)
        #expect(try outside.decode(ErrorDTO.self).error.fields?.first?.field == "repository")
        let otherDryRun = dryRun.replacingOccurrences(of: repository, with: other.repository.path)
            .replacingOccurrences(of: "sh \(agent)", with: "true")
        let inside = try await scoped.send("POST", "/webhook", body: Data(otherDryRun.utf8))
        #expect(inside.status == 200, "\(inside.text)")

        // Invalid bodies name their fields; the repository must be given when several are served.
        let invalid = try await ci.send(
            "POST",
            "/webhook",
            body: Data(#"{"agents": 0, "max_cost_usd": "lots", "colour": "red", "protect": [1]}"#.utf8)
        )
        #expect(invalid.status == 400)
        let fields = Set(try invalid.decode(ErrorDTO.self).error.fields?.map(\.field) ?? [])
        #expect(fields == ["agents", "max_cost_usd", "colour", "protect[0]"], "\(fields)")
        let noRepository = try await ci.send("POST", "/webhook", body: Data(#"{"agent_command": "true"}"#.utf8))
        #expect(try noRepository.decode(ErrorDTO.self).error.fields?.map(\.field) == ["repository"])
        // Without a backend here or in the repository's flotilla.toml, there is no agent to run.
        let noBackend = try await ci.send("POST", "/webhook", body: Data(#"{"repository": "\#(repository)"}"#.utf8))
        #expect(noBackend.status == 400)
        #expect(try noBackend.decode(ErrorDTO.self).error.fields?.map(\.field) == ["backend"], "\(noBackend.text)")
        #expect(try await ci.send("POST", "/webhook", body: Data("not json".utf8)).status == 400)
        let badChecklist = try await ci.send(
            "POST",
            "/webhook",
            body: Data(
                ###"{"repository": "\###(repository)", "agent_command": "true", "verify": "true", "acceptance": "## A\nDepends on: zz\n- [ ] a\n", "dry_run": true}"###
                    .utf8
            )
        )
        #expect(badChecklist.status == 400)
        let checklistError = try badChecklist.decode(ErrorDTO.self).error
        #expect(checklistError.message.contains("zz"))
        // Each problem is a field of its own: the request's `acceptance`, at its line.
        #expect(checklistError.fields?.map(\.field) == ["acceptance:2"], "\(badChecklist.text)")
        #expect(checklistError.fields?.first?.message.contains("unknown group `zz`") == true)

        // Size: a body over --max-body-bytes is refused before it is read.
        let huge = #"{"goal": "\#(String(repeating: "x", count: 8000))"}"#
        #expect(try await ci.send("POST", "/webhook", body: Data(huge.utf8)).status == 413)

        // Idempotency: the same delivery twice starts one mission; the repeat names it.
        let first = try await ci.send(
            "POST",
            "/webhook",
            headers: [("Idempotency-Key", "delivery-1")],
            body: Data(valid.utf8)
        )
        #expect(first.status == 202, "\(first.text)")
        let started = try first.decode(MissionDTO.self)
        let repeated = try await ci.send(
            "POST",
            "/webhook",
            headers: [("Idempotency-Key", "delivery-1")],
            body: Data(valid.utf8)
        )
        #expect(repeated.status == 409)
        #expect(try repeated.decode(ErrorDTO.self).error.missionID == started.id)
        _ = try await EventCollector.collect(ci, mission: started.id)
        // Without a key a delivery is accepted the same way, as the document says.
        let unkeyed = try await ci.send("POST", "/webhook", body: Data(valid.utf8))
        #expect(unkeyed.status == 202, "\(unkeyed.text)")
        let second = try unkeyed.decode(MissionDTO.self)
        _ = try await EventCollector.collect(ci, mission: second.id)
        let document = try await ci.send("GET", "/openapi.json").decode(JSONValue.self)
        let answers = document["paths"]?["/webhook"]?["post"]?["responses"]
        #expect(answers?["202"] != nil && answers?["201"] == nil)
        let missions = try await ci.send("GET", "/missions").decode(MissionListDTO.self).missions
        #expect(Set(missions.map(\.id)) == [started.id, second.id])

        // Rate limit: a burst of 2, then 429 with Retry-After.
        let slow = daemon.client(token: "slow-token-0123456789")
        #expect(try await slow.send("POST", "/webhook", body: Data(dryRun.utf8)).status == 200)
        #expect(try await slow.send("POST", "/webhook", body: Data(dryRun.utf8)).status == 200)
        let limited = try await slow.send("POST", "/webhook", body: Data(dryRun.utf8))
        #expect(limited.status == 429)
        #expect((limited.header("Retry-After").flatMap(Int.init) ?? 0) >= 1)

        let metrics = try Prometheus.parse(try await ci.send("GET", "/metrics").text)
        #expect(metrics.value("flotilla_webhook_deliveries_total", ["result": "rate_limited"]) == 1)
        #expect(metrics.value("flotilla_webhook_deliveries_total", ["result": "duplicate"]) == 1)
        #expect(metrics.value("flotilla_webhook_deliveries_total", ["result": "unauthorized"]) == 2)
        #expect(await daemon.stop() == 0)
    }

    @Test func beyondLoopbackTheAPINeedsATokenAndTheCLIGoesThroughTheDaemon() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        defer { fixture.remove() }
        let refused = try await FlotillaBinary.run(
            ["serve", "--host", "0.0.0.0", "--port", "0"],
            in: fixture.repository.path
        )
        #expect(refused.exitCode == 2)
        #expect(refused.standardError.contains("--host 0.0.0.0"), "\(refused.standardError)")

        let token = "local-token-0123456789"
        let daemon = try await RunningDaemon(
            ["--require-token"],
            in: fixture.repository.path,
            environment: ["FLOTILLA_API_TOKEN": token]
        )
        #expect(try await daemon.anonymousClient().send("GET", "/missions").status == 401)
        #expect(try await daemon.anonymousClient().send("GET", "/health").status == 200)
        #expect(try await daemon.anonymousClient().send("GET", "/metrics").status == 401)

        // The CLI presents the token the daemon made for its user, or the one given; its reads go through the API.
        let listed = try await FlotillaBinary.run(["list"], in: fixture.repository.path)
        #expect(listed.exitCode == 0, "\(listed.standardError)")
        #expect(daemon.localToken != nil && daemon.localToken != token)
        let agent = try fixture.scratch.write("agent.sh", Self.okAgent, executable: true)
        let http = daemon.client(token: token)
        let body = #"{"verify": "./verify.sh", "agent_command": "sh \#(agent)"}"#
        let mission = try await http.send("POST", "/missions", body: Data(body.utf8)).decode(MissionDTO.self)
        let followed = try await FlotillaBinary.run(
            ["logs", "-f", mission.id],
            in: fixture.repository.path,
            environment: ["FLOTILLA_API_TOKEN": token]
        )
        #expect(followed.exitCode == 0, "\(followed.standardError)")
        #expect(followed.standardOutput.contains("Result: completed"), "\(followed.standardOutput)")
        let status = try await FlotillaBinary.run(
            ["status", mission.id, "--output", "json"],
            in: fixture.repository.path,
            environment: ["FLOTILLA_API_TOKEN": token]
        )
        #expect(
            try APIJSON.decoder.decode(MissionDTO.self, from: Data(status.standardOutput.utf8)).state == "completed"
        )
        let metrics = try Prometheus.parse(try await http.send("GET", "/metrics").text)
        #expect(
            metrics.value("flotilla_http_requests_total", ["route": "/missions/{id}/stream", "status": "200"]) == 1
        )
        #expect(metrics.value("flotilla_http_requests_total", ["route": "/missions/{id}", "status": "200"]) == 1)
        #expect(await daemon.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: fixture.repository.path + "/.flotilla/daemon.json"))
        #expect(!FileManager.default.fileExists(atPath: fixture.repository.path + "/.flotilla/daemon.token"))
    }

    @Test func onLoopbackEveryChangeNeedsATokenAndNoCallerGetsLessThanTheSandboxFloor() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b"])
        defer { fixture.remove() }
        let agent = try fixture.scratch.write("agent.sh", Self.okAgent, executable: true)
        let daemon = try await RunningDaemon(["--min-sandbox", "none"], in: fixture.repository.path)
        let tokenFile = fixture.repository.path + "/.flotilla/daemon.token"
        let mode = try FileManager.default.attributesOfItem(atPath: tokenFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // Reads are open on loopback; a change without the token is refused and says where the user's token is.
        let anonymous = daemon.anonymousClient()
        #expect(try await anonymous.send("GET", "/missions").status == 200)
        let body = #"{"verify": "./verify.sh", "agent_command": "sh \#(agent)", "sandbox": "none"}"#
        let refused = try await anonymous.send("POST", "/missions", body: Data(body.utf8))
        #expect(refused.status == 401)
        #expect(refused.text.contains(".flotilla/daemon.token"), "\(refused.text)")
        #expect(try await anonymous.send("POST", "/mcp", body: Data("{}".utf8)).status == 401)
        let dry = #"{"verify": "./verify.sh", "agent_command": "sh \#(agent)", "sandbox": "none", "dry_run": true}"#
        let allowed = try await daemon.client().send("POST", "/missions", body: Data(dry.utf8))
        #expect(allowed.status == 200, "\(allowed.text)")
        #expect(await daemon.stop() == 0)

        // With a floor (bubblewrap wherever it works, the default), even the token cannot ask for no sandbox.
        guard SandboxAvailability.bubblewrap else { return }
        let floored = try await RunningDaemon([], in: fixture.repository.path)
        let dryRun = #"{"verify": "./verify.sh", "agent_command": "sh \#(agent)", "dry_run": true"#
        let below = try await floored.client().send(
            "POST",
            "/missions",
            body: Data((dryRun + #", "sandbox": "none"}"#).utf8)
        )
        #expect(below.status == 403, "\(below.text)")
        #expect(below.text.contains("--min-sandbox"), "\(below.text)")
        let atFloor = try await floored.client().send("POST", "/missions", body: Data((dryRun + "}").utf8))
        #expect(atFloor.status == 200, "\(atFloor.text)")
        #expect(await floored.stop() == 0)
    }
}

/// Reads a mission's event stream to its end.
enum EventCollector {
    struct Collected {
        var events: [EventDTO] = []
        var ended = false
    }

    static func collect(_ http: APIClient, mission: String, lastEventID: Int64? = nil) async throws -> Collected {
        let box = CollectedBox()
        var headers = [("Accept", "text/event-stream")]
        if let lastEventID { headers.append(("Last-Event-ID", String(lastEventID))) }
        let response = try await http.streamLines("/missions/\(mission)/stream", headers: headers) { line in
            box.take(line)
        }
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/event-stream")
        return box.collected
    }

    private final class CollectedBox: @unchecked Sendable {
        // SAFETY: only the stream's reading thread touches it until `collect` returns.
        var collected = Collected()
        private var event: String?

        func take(_ line: String) -> Bool {
            if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") {
                if event == "end" {
                    collected.ended = true
                    return false
                }
                if let decoded = try? APIJSON.decoder.decode(EventDTO.self, from: Data(line.dropFirst(6).utf8)) {
                    collected.events.append(decoded)
                }
            }
            return true
        }
    }
}

/// A strict reader of the Prometheus text format, enough to check what `/metrics` serves.
struct Prometheus {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []

    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    static func parse(_ text: String) throws -> Prometheus {
        var result = Prometheus()
        var types: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram"].contains(parts[3]) else {
                    throw FixtureError("bad TYPE line: \(line)")
                }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw FixtureError("bad sample line: \(line)")
            }
            let head = line[..<space]
            var name = String(head)
            var labels: [String: String] = [:]
            if let brace = head.firstIndex(of: "{") {
                guard head.last == "}" else { throw FixtureError("bad labels: \(line)") }
                name = String(head[..<brace])
                for pair in head[head.index(after: brace)..<head.index(before: head.endIndex)].split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, parts[1].hasPrefix("\""), parts[1].hasSuffix("\"") else {
                        throw FixtureError("bad label: \(pair)")
                    }
                    labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
                }
            }
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }) else {
                throw FixtureError("bad metric name: \(name)")
            }
            let family = ["_bucket", "_sum", "_count"].reduce(name) { base, suffix in
                types[base] == nil && base.hasSuffix(suffix) ? String(base.dropLast(suffix.count)) : base
            }
            guard types[family] != nil else { throw FixtureError("sample before its TYPE: \(line)") }
            result.samples.append(Sample(name: name, labels: labels, value: value))
        }
        // Histogram buckets are cumulative.
        for (family, type) in types where type == "histogram" {
            let buckets = result.samples.filter { $0.name == family + "_bucket" }.map(\.value)
            guard buckets == buckets.sorted() else { throw FixtureError("\(family) buckets are not cumulative") }
        }
        return result
    }
}
