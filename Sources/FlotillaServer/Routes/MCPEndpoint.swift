import FlotillaAPI
import FlotillaMCP
import Foundation
import HTTPTypes
import Hummingbird
import MCP
import NIOCore

/// MCP's streamable HTTP transport at `/mcp`: the same tools and resources as `flotilla mcp`, behind the same tokens.
///
/// Stateless (the SDK's `StatelessHTTPServerTransport`): each POST carries one JSON-RPC message and gets its answer;
/// there is no server-initiated stream, so GET and DELETE are 405. One MCP server serves every request.
actor MCPEndpoint {
    private let tools: MissionTools
    private var transport: StatelessHTTPServerTransport?

    init(service: any MissionService) {
        tools = MissionTools(service: service)
    }

    /// The transport, with its server started on first use.
    private func running() async throws -> StatelessHTTPServerTransport {
        if let transport { return transport }
        let transport = StatelessHTTPServerTransport()
        try await tools.server().start(transport: transport)
        self.transport = transport
        return transport
    }

    func handle(_ request: Request, body: Data) async throws -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let answer = try await running().handleRequest(
            MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: body, path: request.uri.path)
        )
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: answer.statusCode),
            headers: fields,
            body: answer.bodyData.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody()
        )
    }
}

/// `POST /mcp`, behind the API's access rules.
struct MCPController: Sendable {
    let endpoint: MCPEndpoint
    let maxBodyBytes: Int

    func addRoutes(to callers: RouterGroup<CallerContext>) {
        callers.post("/mcp") { request, context in
            // The MCP tools reach every served repository: a token scoped to some of them cannot use them.
            guard context.caller.repositories == nil else {
                throw APIError(.forbidden, code: "forbidden", "/mcp needs a token for every served repository")
            }
            return try await endpoint.handle(request, body: try await request.body(upTo: maxBodyBytes))
        }
    }
}
