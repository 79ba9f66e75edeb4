import FlotillaCore

/// The paths beside the REST API: the dashboard's page and files, and MCP.
extension OpenAPIDocument {
    static var dashboardPage: JSONValue {
        .object([
            "get": operation(
                "The web dashboard (HTML; it reads this API).",
                responses: [
                    "200": text("text/html", "The dashboard page."),
                    "304": .object(["description": "Unchanged."]),
                ]
            )
        ])
    }

    static var dashboardAsset: JSONValue {
        .object([
            "get": operation(
                "A file of the dashboard.",
                parameters: [
                    .object([
                        "name": "name", "in": "path", "required": true,
                        "schema": .object([
                            "type": "string",
                            "enum": .array(DashboardController.assets.keys.sorted().map(JSONValue.string)),
                        ]),
                    ])
                ],
                responses: [
                    "200": .object([
                        "description": "The file.",
                        "content": .object([
                            "text/css": .object(["schema": .object(["type": "string"])]),
                            "text/javascript": .object(["schema": .object(["type": "string"])]),
                        ]),
                    ]),
                    "304": .object(["description": "Unchanged."]),
                    "404": errorResponse("No such file."),
                ]
            )
        ])
    }

    static var mcpPath: JSONValue {
        .object([
            "post": .object([
                "summary":
                    "MCP over streamable HTTP (stateless): one JSON-RPC message per request, the same tools and resources as `flotilla mcp`. Needs a token for every served repository when tokens are required.",
                "requestBody": .object([
                    "required": true,
                    "content": .object([
                        "application/json": .object([
                            "schema": .object([
                                "type": "object", "required": .array(["jsonrpc"]),
                                "properties": .object([
                                    "jsonrpc": .object(["type": "string", "enum": .array(["2.0"])]),
                                    "method": .object(["type": "string"]),
                                    "params": .object(["type": "object"]),
                                ]),
                            ])
                        ])
                    ]),
                ]),
                "responses": .object([
                    "200": .object([
                        "description": "The JSON-RPC answer.",
                        "content": .object([
                            "application/json": .object(["schema": .object(["type": "object"])])
                        ]),
                    ]),
                    "202": .object(["description": "A notification or response was taken."]),
                    "400": rpcError("Not a JSON-RPC message, or a request before initialize."),
                    "401": errorResponse("Missing or invalid token."),
                    "403": errorResponse("A scoped token, or a foreign origin."),
                    "406": rpcError("The Accept header does not take JSON."),
                    "413": errorResponse("Body too large."),
                    "415": rpcError("Not application/json."),
                ]),
            ])
        ])
    }

    /// A JSON-RPC error object, as MCP's transport answers.
    static func rpcError(_ description: String) -> JSONValue {
        .object([
            "description": .string(description),
            "content": .object([
                "application/json": .object([
                    "schema": .object([
                        "type": "object",
                        "properties": .object([
                            "jsonrpc": .object(["type": "string"]), "error": .object(["type": "object"]),
                        ]),
                    ])
                ])
            ]),
        ])
    }

}
