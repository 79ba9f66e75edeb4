import AsyncHTTPClient
import Crypto
import FlotillaCore
import FlotillaEngine
import FlotillaStore
import Foundation
import NIOCore
import NIOHTTP1

/// Delivers the notifications in a ledger's outbox: claims what is due, sends each on its own task, records every
/// try (`notification.delivered` / `notification.failed`, seen in `history`).
///
/// It runs beside a mission's loop, never in it, so a slow or hanging receiver delays nothing but its own delivery;
/// a daemon runs one over every repository it serves, so what a finished mission's process left pending still goes
/// out.
package struct NotificationCourier: Sendable {
    /// The environment signing secrets and access tokens are read from (by the names `secret_env` gives).
    let environment: [String: String]
    let processes: any ProcessRunner
    let clock: @Sendable () -> Date
    /// Hears each try once the ledger has it (a mission's log).
    let sink: (any MissionEventSink)?

    package init(
        environment: [String: String],
        processes: any ProcessRunner,
        sink: (any MissionEventSink)? = nil,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.environment = environment
        self.processes = processes
        self.sink = sink
        self.clock = clock
    }

    /// Delivers what is due in `ledger` (for `mission` only, if given); returns how many tries were made.
    @discardableResult
    package func deliverDue(_ ledger: SQLiteLedger, mission: MissionID? = nil) async throws -> Int {
        // A claim outlives its try, so two processes never send the same notification at once.
        let claimed = try await ledger.claimDueNotifications(of: mission, now: clock())
        await withTaskGroup(of: Void.self) { group in
            for (owner, notification) in claimed {
                group.addTask {
                    let error = await send(notification)
                    var attempt = NotificationTry(of: notification, error: error, now: clock())
                    if Task.isCancelled, let said = error, !said.hasPrefix("HTTP ") {
                        // This process stops mid-try (its grace ran out): recorded as cut short and due again at once
                        // for whoever delivers next. Written outside the cancelled task, so the write itself runs.
                        attempt.error = "cut short: this process stopped before the receiver answered"
                        attempt.retryAt = clock()
                    }
                    let record = Task.detached { [attempt, clock] in
                        try? await ledger.record(.notificationTried(attempt), mission: owner, at: clock())
                    }
                    if let event = await record.value { sink?.publish(event) }
                }
            }
        }
        return claimed.count
    }

    /// Delivers `mission`'s notifications, looking every `interval`, until `stop` is signalled; a try under way
    /// then still finishes and is recorded, so a receiver that answered is never sent the same notification again.
    package func run(
        _ ledger: SQLiteLedger,
        mission: MissionID,
        until stop: CompletionSignal,
        interval: Duration = .milliseconds(250)
    ) async {
        repeat {
            _ = try? await deliverDue(ledger, mission: mission)
        } while await !stop.wait(timeout: interval)
    }

    /// After a mission's run, keeps delivering for up to `limit`, so that "completed" goes out before the process exits.
    ///
    /// `running` is ``run(_:mission:until:interval:)``, told to stop: its tries finish first, then whatever is pending
    /// and due within `limit` is tried. A receiver that hangs holds the process for `limit` at most: what is left then
    /// is given back to the outbox, for a daemon or the next run.
    package func drain(
        _ ledger: SQLiteLedger,
        mission: MissionID,
        after running: Task<Void, Never>,
        within limit: Duration
    ) async {
        let deadline = clock().addingTimeInterval(limit.seconds)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await running.value
                } onCancel: {
                    running.cancel()
                }
                while !Task.isCancelled {
                    guard let pending = try? await ledger.pendingNotifications(of: mission), pending.count > 0,
                        let next = pending.nextAt, next < deadline
                    else { return }
                    let wait = next.timeIntervalSince(clock())
                    if wait > 0 { try? await Task.sleep(for: .seconds(bounded: wait)) }
                    // Nothing claimable (another process holds it): look again shortly rather than spin.
                    if (try? await deliverDue(ledger, mission: mission)) ?? 0 == 0 {
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
            }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    /// One try; nil when delivered, else why not.
    package func send(_ notification: PendingNotification) async -> String? {
        let target = notification.target
        var secret: String?
        if let variable = target.secretVariable {
            guard let value = environment[variable], !value.isEmpty else {
                return "\(variable) is not set in this process's environment (the target's secret_env)"
            }
            secret = value
        }
        let message = NotificationMessage.render(
            notification,
            timestamp: Int(clock().timeIntervalSince1970),
            secret: secret,
            sign: Self.hmacSHA256
        )
        switch message {
        case .post(let url, let headers, let body):
            return await post(url: url, headers: headers, body: body, timeout: target.timeout)
        case .desktop(let arguments):
            return await notifyDesktop(arguments, timeout: target.timeout)
        }
    }

    /// The hex HMAC-SHA256 of `data` under `key`.
    package static func hmacSHA256(key: String, data: Data) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: Data(key.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    private func post(
        url: String,
        headers: [(name: String, value: String)],
        body: Data,
        timeout: Duration
    ) async -> String? {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.headers.replaceOrAdd(name: "User-Agent", value: "flotilla/\(FlotillaVersion.current)")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(timeout.milliseconds))
            let answer = try await response.body.collect(upTo: 4096)
            guard (200..<300).contains(response.status.code) else {
                let text = String(buffer: answer).trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)
                return "HTTP \(response.status.code)" + (text.isEmpty ? "" : ": \(text)")
            }
            return nil
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return "no answer within \(timeout.shortDescription)"
        } catch {
            return "\(error)"
        }
    }

    private func notifyDesktop(_ arguments: [String], timeout: Duration) async -> String? {
        let request = ProcessRequest(
            executable: "notify-send",
            arguments: arguments,
            workingDirectory: "/",
            environment: EnvironmentPolicy().allowing([
                "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR",
            ])
            .environment(from: environment),
            timeout: timeout
        )
        do {
            let result = try await processes.run(request)
            guard result.termination == .exited(0) else {
                let tail = result.outputTail.trimmingCharacters(in: .whitespacesAndNewlines)
                return "notify-send \(result.termination)" + (tail.isEmpty ? "" : ": \(tail.prefix(200))")
            }
            return nil
        } catch {
            return "notify-send could not run: \(error)"
        }
    }
}
