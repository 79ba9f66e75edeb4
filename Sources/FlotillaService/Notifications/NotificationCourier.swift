import AsyncHTTPClient
import Crypto
import FlotillaCore
import Foundation
import NIOCore
import NIOHTTP1

/// Delivers the notifications in an outbox: claims what is due, sends each on its own task, records every try
/// (`notification.delivered` / `notification.failed`, seen in `history`).
///
/// It runs beside a mission's loop, never in it, so a slow or hanging receiver delays nothing but its own delivery;
/// a daemon runs one over every repository it serves, so what a finished mission's process left pending still goes
/// out.
package struct NotificationCourier: Sendable {
    /// How one try went.
    package enum Outcome: Sendable, Equatable {
        case delivered
        /// The receiver answered, and not with success (`HTTP 500: …`).
        case refused(String)
        /// No answer came (it timed out, could not connect, or the try was cut short), or it could not be sent.
        case failed(String)

        /// Why it was not delivered; nil when it was.
        var error: String? {
            switch self {
            case .delivered: nil
            case .refused(let said), .failed(let said): said
            }
        }
    }

    /// The environment signing secrets and access tokens are read from (by the names `secret_env` gives).
    let environment: [String: String]
    let processes: any ProcessRunner
    /// Hears each try once the outbox has it (a mission's log).
    let sink: (any MissionEventSink)?
    let now: @Sendable () -> Date
    let clock: any Clock<Duration>
    /// How often a running mission's outbox is looked at.
    let interval: Duration

    package init(
        environment: [String: String],
        processes: any ProcessRunner,
        sink: (any MissionEventSink)? = nil,
        now: @escaping @Sendable () -> Date = Date.init,
        clock: any Clock<Duration> = ContinuousClock(),
        interval: Duration = .milliseconds(250)
    ) {
        self.environment = environment
        self.processes = processes
        self.sink = sink
        self.now = now
        self.clock = clock
        self.interval = interval
    }

    /// Delivers what is due in `outbox` (for `mission` only, if given); returns how many tries were made.
    @discardableResult
    package func deliverDue(_ outbox: any NotificationOutbox, mission: MissionID? = nil) async throws -> Int {
        // A claim outlives its try, so two processes never send the same notification at once.
        let claimed = try await outbox.claimDueNotifications(of: mission, now: now())
        await withTaskGroup(of: Void.self) { group in
            for (owner, notification) in claimed {
                group.addTask {
                    let outcome = await send(notification)
                    var attempt = NotificationTry(of: notification, error: outcome.error, now: now())
                    if Task.isCancelled, case .failed = outcome {
                        // This process stops mid-try (its grace ran out): recorded as cut short and due again at once
                        // for whoever delivers next.
                        attempt.error = "cut short: this process stopped before the receiver answered"
                        attempt.retryAt = now()
                    }
                    // The outbox records it even though this task may be cancelled.
                    if let event = try? await outbox.recordTry(attempt, mission: owner, at: now()) {
                        sink?.publish(event)
                    }
                }
            }
        }
        return claimed.count
    }

    /// Runs `body` (a mission's run) with `mission`'s notifications delivered beside it, looking every ``interval``;
    /// once it ends, keeps delivering for up to `grace` (none when it failed), so that "completed" goes out before
    /// the process exits.
    ///
    /// Tries under way when the body ends finish first, then whatever is pending and due within the grace is tried.
    /// A receiver that hangs holds the process for the grace at most: what is left is given back to the outbox, for
    /// a daemon or the next run.
    package func deliveringBeside<T: Sendable>(
        _ outbox: any NotificationOutbox,
        mission: MissionID,
        grace: Duration,
        _ body: () async throws -> T
    ) async throws -> T {
        let ended = CompletionSignal()
        let failed = CompletionSignal()
        let result = await withTaskGroup(of: Void.self) { group -> Result<T, any Error> in
            group.addTask { await deliver(outbox, mission: mission, until: ended, grace: grace, failed: failed) }
            let result: Result<T, any Error>
            do {
                result = .success(try await body())
            } catch {
                result = .failure(error)
            }
            let given: Duration
            switch result {
            case .success:
                given = grace
            case .failure:
                given = .zero
                failed.signal()
            }
            ended.signal()
            group.addTask { try? await clock.sleep(for: given) }
            await group.next()
            group.cancelAll()
            return result
        }
        return try result.get()
    }

    /// Delivers `mission`'s notifications until `ended`; then what is due within `grace` of that (none if `failed`).
    private func deliver(
        _ outbox: any NotificationOutbox,
        mission: MissionID,
        until ended: CompletionSignal,
        grace: Duration,
        failed: CompletionSignal
    ) async {
        repeat {
            _ = try? await deliverDue(outbox, mission: mission)
        } while await !wait(interval, or: ended)
        let deadline = now().addingTimeInterval(failed.isSignalled ? 0 : grace.seconds)
        while !Task.isCancelled {
            guard let pending = try? await outbox.pendingNotifications(of: mission), pending.count > 0,
                let next = pending.nextAt, next < deadline
            else { return }
            let wait = next.timeIntervalSince(now())
            if wait > 0 { try? await clock.sleep(for: .seconds(bounded: wait)) }
            // Nothing claimable (another process holds it): look again shortly rather than spin.
            if (try? await deliverDue(outbox, mission: mission)) ?? 0 == 0 {
                try? await clock.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Waits `interval`, or until `signal`; whether the signal came.
    private func wait(_ interval: Duration, or signal: CompletionSignal) async -> Bool {
        guard !signal.isSignalled else { return true }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await signal.wait() }
            group.addTask { try? await clock.sleep(for: interval) }
            await group.next()
            group.cancelAll()
        }
        return signal.isSignalled
    }

    /// One try.
    package func send(_ notification: PendingNotification) async -> Outcome {
        let target = notification.target
        var secret: String?
        if let variable = target.secretVariable {
            guard let value = environment[variable], !value.isEmpty else {
                return .failed("\(variable) is not set in this process's environment (the target's secret_env)")
            }
            secret = value
        }
        let message = NotificationMessage.render(
            notification,
            timestamp: Int(now().timeIntervalSince1970),
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
    ) async -> Outcome {
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
                return .refused("HTTP \(response.status.code)" + (text.isEmpty ? "" : ": \(text)"))
            }
            return .delivered
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return .failed("no answer within \(timeout.shortDescription)")
        } catch {
            return .failed("\(error)")
        }
    }

    private func notifyDesktop(_ arguments: [String], timeout: Duration) async -> Outcome {
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
                return .refused("notify-send \(result.termination)" + (tail.isEmpty ? "" : ": \(tail.prefix(200))"))
            }
            return .delivered
        } catch {
            return .failed("notify-send could not run: \(error)")
        }
    }
}
