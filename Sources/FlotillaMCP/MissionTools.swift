import FlotillaAPI
import FlotillaCore
import Foundation
import MCP

/// Flotilla's missions as MCP tools and resources, over any `MissionService`.
///
/// This machine's ledgers for `flotilla mcp`, the daemon's host for `/mcp`. Each tool makes one service call, as a CLI
/// command does, and fails with the CLI's message.
package struct MissionTools: Sendable {
    package let service: any MissionService
    /// Writes a checklist (Markdown) for a goal in a repository; nil where no planner can be built here.
    package let planner: (@Sendable (_ goal: String, _ repository: String) async throws -> String)?

    package init(
        service: any MissionService,
        planner: (@Sendable (_ goal: String, _ repository: String) async throws -> String)? = nil
    ) {
        self.service = service
        self.planner = planner
    }

    /// A server with every tool and resource, not yet started on a transport.
    package func server() async -> Server {
        let server = Server(
            name: "flotilla",
            version: FlotillaVersion.current,
            instructions: """
                Flotilla turns a goal into verified, merged code: plan a checklist, start a mission (it runs in the \
                background), then follow it with mission_status or mission_log until it ends.
                """,
            capabilities: .init(
                resources: .init(subscribe: false, listChanged: false),
                tools: .init(listChanged: false)
            )
        )
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: Self.tools) }
        await server.withMethodHandler(CallTool.self) { params in
            do {
                return try await call(params.name, params.arguments ?? [:])
            } catch let error as FlotillaError {
                // A tool that fails (a bad or unknown mission id, an argument it refuses, a mission that cannot go
                // on) answers with its error as a result the model reads and can act on, not as a protocol error
                // (MCP 2025-11-25, SEP-1303). An unknown tool stays a protocol error.
                return CallTool.Result(
                    content: [.text(text: error.message, annotations: nil, _meta: nil)],
                    isError: true
                )
            }
        }
        await server.withMethodHandler(ListResources.self) { _ in
            .init(resources: try await Self.answering { try await resources() }, nextCursor: nil)
        }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in .init(templates: Self.templates) }
        await server.withMethodHandler(ReadResource.self) { params in
            try await Self.answering { try await read(params.uri) }
        }
        return server
    }

    /// Runs a resource handler; Flotilla's errors become MCP errors with the CLI's message.
    static func answering<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as FlotillaError {
            switch error.code {
            case .invalidInput, .notFound: throw MCPError.invalidParams(error.message)
            case .conflict: throw MCPError.serverError(code: -32009, message: error.message)
            default: throw MCPError.internalError(error.message)
            }
        }
    }
}
