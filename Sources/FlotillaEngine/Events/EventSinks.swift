import FlotillaCore
import Foundation
import Synchronization

/// Appends each event as one JSON line to `events.jsonl`.
package final class EventsFileSink: MissionEventSink {
    private let file: AppendOnlyFile

    package init(path: String) {
        file = AppendOnlyFile(path: path)
    }

    package func publish(_ event: MissionEvent) {
        guard let line = try? Self.encoder.encode(event) else { return }
        file.append(line + Data("\n".utf8))
    }

    package func close() {
        file.close()
    }

    /// Makes `events.jsonl` hold exactly the ledger's events again.
    ///
    /// A run killed between storing an event and appending its line leaves the file one line short; the ledger is
    /// the truth, so before a mission continues the file is rewritten from it (atomically) when the two differ.
    package static func restore(path: String, from ledger: any MissionLedger, mission: MissionID) async throws {
        var events: [MissionEvent] = []
        while true {
            let batch = try await ledger.events(of: mission, after: events.last?.id ?? 0, limit: 10_000)
            events += batch
            if batch.count < 10_000 { break }
        }
        let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let ids = existing.split(separator: "\n").compactMap { line -> Int64? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return nil
            }
            return (object["id"] as? NSNumber)?.int64Value
        }
        guard ids != events.map(\.id) else { return }
        var data = Data()
        for event in events { data += try encoder.encode(event) + Data("\n".utf8) }
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.iso8601(date))
        }
        return encoder
    }()
}

/// Writes `mission.log`: the story of the mission for people, with the time since it started on every line.
package final class MissionLogSink: MissionEventSink {
    private let file: AppendOnlyFile
    private let origin: Date

    package init(path: String, origin: Date) {
        file = AppendOnlyFile(path: path)
        self.origin = origin
    }

    package func publish(_ event: MissionEvent) {
        write("\(Self.offset(event.at.timeIntervalSince(origin))) \(event.message)")
    }

    /// Adds free text (summaries, paths) to the log.
    package func write(_ text: String) {
        file.append(Data((text + "\n").utf8))
    }

    package func close() {
        file.close()
    }

    /// `[+01:02.345]`: minutes, seconds and milliseconds since the mission started.
    package static func offset(_ seconds: TimeInterval) -> String {
        let total = max(0, Int((seconds * 1000).rounded()))
        let minutes = total / 60_000
        let rest = total % 60_000
        let secondsPart = String(rest / 1000)
        let millis = String(rest % 1000)
        return "[+\(minutes < 10 ? "0" : "")\(minutes):"
            + String(repeating: "0", count: 2 - secondsPart.count) + secondsPart + "."
            + String(repeating: "0", count: 3 - millis.count) + millis + "]"
    }
}

/// A file that several tasks append to, whole writes in order.
///
/// Failing to write a log never stops a mission.
private final class AppendOnlyFile: Sendable {
    private let handle: Mutex<FileHandle?>

    init(path: String) {
        try? FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
        self.handle = Mutex(handle)
    }

    func append(_ data: Data) {
        handle.withLock { $0?.write(data) }
    }

    func close() {
        handle.withLock { handle in
            try? handle?.close()
            handle = nil
        }
    }
}

/// Fans one event out to several sinks.
package struct EventBus: MissionEventSink {
    package var sinks: [any MissionEventSink]

    package init(_ sinks: [any MissionEventSink]) {
        self.sinks = sinks
    }

    package func publish(_ event: MissionEvent) {
        for sink in sinks { sink.publish(event) }
    }
}

/// Timestamps as people and machines read them.
package enum Timestamp {
    package static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
