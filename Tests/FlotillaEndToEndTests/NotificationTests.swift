import Crypto
import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Notifications end to end: the built binary, `[notify.NAME]` in the user's configuration, receivers on loopback.
@Suite("Notifications, end to end", .tags(.large), .timeLimit(.minutes(10)))
struct NotificationTests {
    static let oneGroup = "# One thing\n\n## A\n- [ ] a.txt says a ok\n"
    static let secret = "test-signing-secret"

    /// Writes the user's `config.toml` with `targets` and returns the environment that makes `flotilla` read it.
    static func configure(_ fixture: MissionFixture, _ targets: String) throws -> [String: String] {
        let home = fixture.scratch.file("config")
        try FileManager.default.createDirectory(atPath: home + "/flotilla", withIntermediateDirectories: true)
        try targets.write(toFile: home + "/flotilla/config.toml", atomically: true, encoding: .utf8)
        return ["XDG_CONFIG_HOME": home, "FLOTILLA_TEST_HOOK_SECRET": secret, "FLOTILLA_TEST_NTFY_TOKEN": "tk_test"]
    }

    /// A webhook target; its `timeout` (60 s, not the default 10) keeps a receiver in this test process that answers
    /// late on busy cores from being counted as one that did not answer.
    static func webhook(
        port: Int,
        events: String = #"["completed"]"#,
        timeout: Int = 60,
        extra: String = ""
    ) -> String {
        """
        [notify.ops]
        kind = "webhook"
        url = "http://127.0.0.1:\(port)/hook"
        secret_env = "FLOTILLA_TEST_HOOK_SECRET"
        events = \(events)
        backoff = 0.05
        timeout = \(timeout)
        \(extra)

        """
    }

    func simulateOneGroup(
        _ fixture: MissionFixture,
        environment: [String: String]
    ) async throws
        -> FlotillaBinary.Outcome
    {
        try await fixture.run(
            [
                "--backend", "simulate", "--scenario",
                try fixture.scenario(#"{"groups": {"a": [{"write": {"a.txt": "a ok\n"}}]}}"#),
            ],
            environment: environment
        )
    }

    /// `flotilla history ID`: its notifications as JSON, and the table.
    func history(_ fixture: MissionFixture, _ id: MissionID) async throws -> (json: [[String: Any]], table: String) {
        let json = try await FlotillaBinary.run(
            ["history", id.rawValue, "--output", "json"],
            in: fixture.repository.path
        )
        let table = try await FlotillaBinary.run(["history", id.rawValue], in: fixture.repository.path)
        #expect(json.exitCode == 0 && table.exitCode == 0, "\(json.standardError)\(table.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
        return ((object?["notifications"] as? [[String: Any]]) ?? [], table.standardOutput)
    }

    @Test func aWebhookThatFailsTwiceGetsTheEventOnceSignedAndHistoryShowsEachTry() async throws {
        let fixture = try await MissionFixture(checklist: Self.oneGroup, groups: ["a"])
        defer { fixture.remove() }
        try await NotificationReceiver.serving([.status(500), .status(503)]) { receiver, port in
            // A grace long enough for three tries on a starved machine.
            let environment = try Self.configure(fixture, "[notify]\ngrace = 120\n\n" + Self.webhook(port: port))
            let outcome = try await simulateOneGroup(fixture, environment: environment)
            #expect(outcome.exitCode == 0, "\(outcome.standardError)")
            let audit = try await fixture.audit()

            // The run's process kept delivering after the mission ended, until the third try got through.
            let received = await receiver.received
            #expect(received.map(\.status) == [500, 503, 200])
            #expect(Set(received.map(\.body)).count == 1, "every try sends the same body")
            #expect(Set(received.map { $0.headers["x-flotilla-delivery"] ?? "" }).count == 1)
            let delivered = try #require(received.last)
            #expect(delivered.path == "/hook")
            #expect(delivered.headers["content-type"] == "application/json")
            #expect(delivered.headers["x-flotilla-event"] == "mission.finished")

            // The signature is HMAC-SHA256 under the secret over "TIMESTAMP.BODY", the timestamp recent.
            let timestamp = try #require(delivered.headers["x-flotilla-timestamp"].flatMap(Int.init))
            #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 600)
            let code = HMAC<SHA256>.authenticationCode(
                for: Data("\(timestamp).".utf8) + delivered.body,
                using: SymmetricKey(data: Data(Self.secret.utf8))
            )
            let expected = "sha256=" + code.map { String(format: "%02x", $0) }.joined()
            #expect(delivered.headers["x-flotilla-signature"] == expected)
            let forged = HMAC<SHA256>.authenticationCode(
                for: Data("\(timestamp).".utf8) + delivered.body + Data(" ".utf8),
                using: SymmetricKey(data: Data(Self.secret.utf8))
            )
            #expect(
                delivered.headers["x-flotilla-signature"] != "sha256="
                    + forged.map { String(format: "%02x", $0) }.joined()
            )

            let body = try #require(try JSONSerialization.jsonObject(with: delivered.body) as? [String: Any])
            #expect(body["mission"] as? String == audit.id.rawValue)
            #expect(body["category"] as? String == "completed")
            #expect(body["event"] as? String == "mission.finished")
            #expect((body["text"] as? String)?.contains("completed") == true)

            // Each try is an event: in the ledger, in events.jsonl (the audit compared them) and in `history`.
            let tries = try await audit.events().filter { $0.kind.rawValue.hasPrefix("notification.") }
            #expect(tries.map(\.kind) == [.notificationFailed, .notificationFailed, .notificationDelivered])
            #expect(tries.first?.message.contains("failed on try 1 of 8: HTTP 500") == true, "\(tries.map(\.message))")
            #expect(tries.last?.message.contains("delivered on try 3") == true)
            let (notifications, table) = try await history(fixture, audit.id)
            #expect(notifications.count == 1)
            #expect(notifications.first?["target"] as? String == "ops")
            #expect(notifications.first?["state"] as? String == "delivered")
            #expect(notifications.first?["tries"] as? Int == 3)
            #expect(notifications.first?["last_error"] as? String == "HTTP 503: noted")
            #expect(table.contains("NOTIFICATION") && table.contains("delivered"), "\(table)")
        }
    }

    @Test func slackNtfyAndDesktopTargetsEachGetTheirOwnFormat() async throws {
        let fixture = try await MissionFixture(checklist: Self.oneGroup, groups: ["a"])
        defer { fixture.remove() }
        // notify-send, as the desktop has it: the test's stands in and keeps its arguments.
        let bin = fixture.scratch.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let argumentsFile = fixture.scratch.file("notify-send.args")
        try "#!/bin/sh\nprintf '%s\\n' \"$@\" > \(argumentsFile)\n".write(
            toFile: bin + "/notify-send",
            atomically: true,
            encoding: .utf8
        )
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/notify-send")
        try await NotificationReceiver.serving { receiver, port in
            var environment = try Self.configure(
                fixture,
                """
                [notify]
                grace = 120

                [notify.chat]
                kind = "slack"
                url = "http://127.0.0.1:\(port)/slack"
                timeout = 60

                [notify.phone]
                kind = "ntfy"
                url = "http://127.0.0.1:\(port)/flotilla-topic"
                secret_env = "FLOTILLA_TEST_NTFY_TOKEN"
                events = ["completed", "failed"]
                timeout = 60

                [notify.desk]
                kind = "desktop"
                events = ["completed"]

                """
            )
            environment["PATH"] = bin + ":" + (FixtureRepository.environment["PATH"] ?? "/usr/bin:/bin")
            let outcome = try await simulateOneGroup(fixture, environment: environment)
            #expect(outcome.exitCode == 0, "\(outcome.standardError)")
            let audit = try await fixture.audit()
            let received = await receiver.received
            let slack = try #require(received.first { $0.path == "/slack" })
            let message = try #require(try JSONSerialization.jsonObject(with: slack.body) as? [String: Any])
            let text = try #require(message["text"] as? String)
            #expect(text.contains("Flotilla \(audit.id) completed"), "\(text)")
            let ntfy = try #require(received.first { $0.path == "/flotilla-topic" })
            #expect(ntfy.headers["title"] == "Flotilla \(audit.id) completed")
            #expect(ntfy.headers["authorization"] == "Bearer tk_test")
            #expect(ntfy.headers["tags"] == "white_check_mark")
            #expect(String(decoding: ntfy.body, as: UTF8.self).contains("mission completed"))
            #expect(received.count == 2, "one event, one request per HTTP target: \(received.map(\.path))")
            let arguments = try String(contentsOfFile: argumentsFile, encoding: .utf8)
            #expect(arguments.contains("--app-name=Flotilla"))
            #expect(arguments.contains("Flotilla \(audit.id) completed"))
            let delivered = try await audit.events().filter { $0.kind == .notificationDelivered }.compactMap {
                $0.payload(MissionEvent.NotificationTried.self)?.target
            }
            #expect(Set(delivered) == ["chat", "phone", "desk"])
        }
    }

    @Test func aBlockedGroupTellsThoseWhoWantNeedsHumanAndNoOneElse() async throws {
        let fixture = try await MissionFixture(checklist: Self.oneGroup, groups: ["a"])
        defer { fixture.remove() }
        try await NotificationReceiver.serving { receiver, port in
            let environment = try Self.configure(
                fixture,
                "[notify]\ngrace = 120\n\n" + Self.webhook(port: port, events: #"["needs_human"]"#)
                    + "\n[notify.done]\nkind = \"slack\"\nurl = \"http://127.0.0.1:\(port)/done\"\nevents = [\"completed\"]\n"
            )
            let outcome = try await fixture.run(
                [
                    "--backend", "simulate", "--stall-threshold", "1",
                    "--scenario", try fixture.scenario(#"{"groups": {"a": [{"write": {"a.txt": "a nope\n"}}]}}"#),
                ],
                environment: environment
            )
            #expect(outcome.exitCode != 0)
            let audit = try await fixture.audit()
            let received = await receiver.received
            #expect(received.map(\.path) == ["/hook"], "only the needs_human target hears of it")
            let first = try #require(received.first)
            let body = try #require(try JSONSerialization.jsonObject(with: first.body) as? [String: Any])
            #expect(body["category"] as? String == "needs_human")
            #expect(body["group"] as? String == "a")
            #expect(body["event"] as? String == "attempt.failed")
            #expect(audit.mission.state == .blocked)
        }
    }

    @Test func whatAFinishedRunLeftPendingSurvivesADaemonRestartAndIsDeliveredOnce() async throws {
        let fixture = try await MissionFixture(checklist: Self.oneGroup, groups: ["a"])
        defer { fixture.remove() }
        try await NotificationReceiver.serving(otherwise: .status(500)) { receiver, port in
            let environment = try Self.configure(fixture, Self.webhook(port: port, extra: "attempts = 50"))
            let outcome = try await simulateOneGroup(fixture, environment: environment)
            #expect(outcome.exitCode == 0, "\(outcome.standardError)")
            let audit = try await fixture.audit()
            // The run's process tried for its grace period (how many times depends on the machine's load), then left
            // the notification in the outbox.
            let tried = await receiver.received.count
            #expect(tried >= 1)
            #expect(try await history(fixture, audit.id).json.first?["state"] as? String == "pending")

            // A daemon takes it over; its try fails too, and it is stopped before the next.
            let first = try await RunningDaemon([], in: fixture.repository.path, environment: environment)
            #expect(await receiver.waitForRequests(tried + 1), "the daemon did not try the pending notification")
            #expect(await first.stop() == 0)
            let afterFirst = await receiver.received.count

            // The receiver recovers; a new daemon delivers the notification, once.
            await receiver.script([], otherwise: .status(200))
            let second = try await RunningDaemon([], in: fixture.repository.path, environment: environment)
            #expect(await receiver.waitForRequests(afterFirst + 1), "the restarted daemon did not deliver it")
            #expect(await second.stop() == 0, "\(second.errorOutput)")

            let received = await receiver.received
            #expect(received.filter { $0.status == 200 }.count == 1)
            #expect(received.last?.status == 200)
            #expect(Set(received.map { $0.headers["x-flotilla-delivery"] ?? "" }).count == 1, "one notification")
            let notification = try #require(try await history(fixture, audit.id).json.first)
            #expect(notification["state"] as? String == "delivered")
            // Every answer the receiver gave is a try in the ledger (a try cut short when a process stopped is one
            // too, said so, whether or not its request got out).
            let tries = try await audit.events().filter { $0.kind.rawValue.hasPrefix("notification.") }
            func failed(saying prefix: String) -> [MissionEvent] {
                tries.filter { ($0.payload(MissionEvent.NotificationTried.self)?.error ?? "").hasPrefix(prefix) }
            }
            let refused = failed(saying: "HTTP 500")
            let cutShort = failed(saying: "cut short")
            let late = failed(saying: "no answer within")
            // A 500 the receiver sent just as a process stopped may have been read as neither: it is a cut-short try;
            // one that reached a client on busy cores after its timeout is a try with no answer in time.
            let answered500 = received.filter { $0.status == 500 }.count
            #expect(
                refused.count <= answered500 && answered500 <= refused.count + cutShort.count + late.count,
                "\(tries.map(\.message))"
            )
            #expect(tries.filter { $0.kind == .notificationDelivered }.count == 1)
            #expect(tries.last?.kind == .notificationDelivered)
            #expect(notification["tries"] as? Int == tries.count)
        }
    }

    @Test func aReceiverThatHangsDoesNotHoldUpTheLoop() async throws {
        let fixture = try await MissionFixture(
            checklist: "# Two\n\n## A\n- [ ] a.txt says a ok\n\n## B\n- [ ] b.txt says b ok\n",
            groups: ["a", "b"]
        )
        defer { fixture.remove() }
        // a always fails and is blocked (a human is needed); b waits until the test opens its FIFO.
        let release = fixture.scratch.file("b.fifo")
        #expect(mkfifo(release, 0o644) == 0)
        let agent = try fixture.scratch.write(
            "agent.sh",
            """
            case "$FLOTILLA_GROUP" in
              a) echo "a nope" > a.txt ;;
              b) cat \(release) > /dev/null; echo "b ok" > b.txt ;;
            esac

            """
        )
        // Every request hangs until the test lets go, which it does only after `flotilla run` has exited.
        try await NotificationReceiver.serving(otherwise: .hang) { receiver, port in
            let environment = try Self.configure(
                fixture,
                Self.webhook(port: port, events: #"["needs_human"]"#, timeout: 300)
            )
            let run = Task {
                try await fixture.run(
                    [
                        "--agent-command", "sh \(agent)", "--agents", "2", "--stall-threshold", "1", "--max-attempts",
                        "-1",
                    ],
                    environment: environment
                )
            }
            // a is blocked and its notification hangs; only now may b finish.
            #expect(await receiver.waitForRequests(1), "the blocked group was not notified")
            Thread { FileHandle(forWritingAtPath: release)?.closeFile() }.start()
            let started = ContinuousClock.now
            let outcome = try await run.value
            let elapsed = started.duration(to: .now)
            let received = await receiver.received
            #expect(outcome.exitCode != 0, "a is blocked: \(outcome.standardError)")
            let audit = try await fixture.audit()
            // b landed and the mission ended while the notification was still unanswered.
            #expect(try await audit.attempt("b", 1)?.outcome == .landed, "\(outcome.standardError)")
            #expect(
                audit.mission.state == .blocked,
                "exit \(String(describing: outcome.exitCode)), signal \(String(describing: outcome.signal)), timed out \(outcome.timedOut): \(outcome.standardError)"
            )
            #expect(received.count == 1 && received[0].status == nil)
            let body = try #require(try JSONSerialization.jsonObject(with: received[0].body) as? [String: Any])
            #expect(body["group"] as? String == "a")
            print("after b was released the run took \(elapsed) to end (the loop, then at most 10 s of delivery grace)")
            let events = try await audit.events()
            #expect(events.contains { $0.kind == .missionFinished })
            // The try was cut short when the process's grace ran out; the notification stays in the outbox, due at
            // once, for a daemon or the next run.
            let tries = events.filter { $0.kind.rawValue.hasPrefix("notification.") }
            #expect(tries.map(\.kind) == [.notificationFailed])
            #expect(tries.first?.message.contains("cut short: this process stopped") == true)
            let notifications = try await history(fixture, audit.id).json
            #expect(notifications.count == 1 && notifications[0]["state"] as? String == "pending")
        }
    }
}
