import FlotillaAPI
import FlotillaCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// A mission's events as Server-Sent Events, read from the ledger as the mission's process writes them.
///
/// Each event carries its ledger id as the SSE `id`, so a client that reconnects with `Last-Event-ID` gets
/// exactly the events it missed. The stream ends with an `end` event once the mission has ended.
struct EventStream: Sendable {
    let service: any MissionService
    let configuration: APIConfiguration

    func response(mission: MissionID, after lastEventID: Int64) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                try await stream(mission: mission, after: lastEventID, to: &writer)
                try await writer.finish(nil)
            }
        )
    }

    private func stream(
        mission: MissionID,
        after lastEventID: Int64,
        to writer: inout any ResponseBodyWriter
    )
        async throws
    {
        let clock = ContinuousClock()
        let batch = 500
        var last = lastEventID
        var lastWrite = clock.now
        // The retry hint makes browsers reconnect (with Last-Event-ID) after a second.
        try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Ended is read before the events, so no event written before the end can be missed.
            let ended = try await service.hasEnded(mission)
            let events = try await service.events(mission, after: last, limit: batch)
            if !events.isEmpty {
                var text = ""
                for event in events {
                    let data = String(decoding: try APIJSON.encoder.encode(event), as: UTF8.self)
                    text += "id: \(event.id)\nevent: \(event.kind)\ndata: \(data)\n\n"
                }
                try await writer.write(ByteBuffer(string: text))
                last = events.last?.id ?? last
                lastWrite = clock.now
            }
            if events.count == batch { continue }
            if ended {
                try await writer.write(ByteBuffer(string: "event: end\ndata: {\"mission\":\"\(mission)\"}\n\n"))
                return
            }
            if lastWrite.duration(to: clock.now) >= configuration.keepAliveInterval {
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                lastWrite = clock.now
            }
            // Another process writes the events; the ledger is the only channel, so it is polled.
            try await clock.sleep(for: configuration.pollInterval)
        }
    }
}
