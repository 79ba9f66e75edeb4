import FlotillaAPI
import FlotillaCore
import Foundation

/// The OpenAPI 3.1 description of the API, served at `/openapi.json`.
///
/// Written by hand, apart from the request schema which comes from the mission fields' rules; a test checks that
/// its paths and methods are exactly the router's.
package enum OpenAPIDocument {
    package static let json: String = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(document)) ?? Data(), as: UTF8.self)
    }()

    static var document: JSONValue {
        .object([
            "openapi": "3.1.0",
            "info": .object([
                "title": "Flotilla daemon API",
                "version": "1",
                "description": """
                Missions of the repositories `flotilla serve` serves. Errors are {"error": {"code", "message", \
                "fields"?, "mission_id"?}}. REST routes need `Authorization: Bearer TOKEN` when the daemon \
                listens beyond loopback or runs with --require-token; the webhook always does.
                """,
            ]),
            "components": components,
            "paths": .object([
                "/": dashboardPage,
                "/assets/{name}": dashboardAsset,
                "/health": route("get", "Liveness: the process answers.", ok: "Status"),
                "/ready": .object([
                    "get": operation(
                        "Readiness: start-up reconciliation is done.",
                        responses: ["200": ref("Status"), "503": errorResponse("Still starting.")]
                    )
                ]),
                "/metrics": .object([
                    "get": operation(
                        "Prometheus text: missions by state, attempts by outcome, gate and merge durations, cost, "
                            + "merge queue depth, active agents, requests.",
                        responses: ["200": text("text/plain", "Prometheus text format 0.0.4")]
                    )
                ]),
                "/openapi.json": route("get", "This document.", ok: nil),
                "/missions": .object([
                    "get": operation(
                        "Missions, newest first; the query narrows them.",
                        parameters: [
                            query(
                                "state",
                                .object(["type": "string", "enum": .array(MissionDTO.states.map(JSONValue.string))]),
                                "Only missions in this state."
                            ),
                            query(
                                "tag",
                                .object(["type": "array", "items": .object(["type": "string"])]),
                                "Only missions carrying every tag given (repeat the parameter)."
                            ),
                            query("source", .object(["type": "string"]), "Only missions that came this way."),
                        ],
                        responses: ["200": ref("MissionList"), "400": errorResponse("A state that is not one.")]
                    ),
                    "post": operation(
                        "Create a mission and start it in the background.",
                        body: "CreateMission",
                        idempotent: true,
                        responses: [
                            "201": ref("Mission", links: true), "200": ref("DryRun"), "400": invalidMission,
                            "409": errorResponse("Repeated Idempotency-Key."), "413": errorResponse("Body too large."),
                        ]
                    ),
                ]),
                "/missions/{id}": missionRoute("get", "A mission with its groups.", ok: "Mission"),
                "/missions/{id}/stop": missionRoute(
                    "post",
                    "Stop gracefully: running attempts are ended and recorded; the process is killed after `wait`. "
                        + "`end=terminate` ends it for good; `end=complete` (with a `reason`) declares it complete, "
                        + "groups not landed waived.",
                    ok: "Mission",
                    query: [
                        (
                            "wait", .object(["type": "number", "minimum": 0, "maximum": 3600]),
                            "Seconds to wait before killing (default 60)."
                        ),
                        (
                            "end", .object(["type": "string", "enum": .array(["pause", "terminate", "complete"])]),
                            "How the mission is left: pause (default, resumable), terminate or complete."
                        ),
                        (
                            "reason",
                            .object([
                                "type": "string", "minLength": 1, "maxLength": .number(Double(MissionEnd.reasonLimit)),
                            ]),
                            "Why a person declares the mission complete (required with end=complete)."
                        ),
                    ]
                ),
                "/missions/{id}/step": missionRoute(
                    "post",
                    "Continue a stopped or not yet started mission in the background for `attempts` more attempts, "
                        + "then pause it (stop reason step_limit).",
                    ok: "Mission",
                    query: [
                        (
                            "attempts", .object(["type": "integer", "minimum": 1, "maximum": 1000]),
                            "How many attempts may start before the mission pauses (default 1)."
                        )
                    ]
                ),
                "/missions/{id}/resume": missionRoute(
                    "post",
                    "Continue a stopped or crashed mission in the background.",
                    ok: "Mission"
                ),
                "/missions/{id}/approve": missionRoute(
                    "post",
                    "Approve what waits for a human (--approve: verified landings, the finished mission), else release "
                        + "blocked groups (all, or those listed) and resume.",
                    ok: "Approval",
                    body: "ApprovalRequest",
                    bodyRequired: false
                ),
                "/missions/{id}/land": missionRoute(
                    "post",
                    "Bring a completed mission's verified result onto a local branch, after a verify of the exact commit.",
                    ok: "Landing",
                    body: "LandRequest"
                ),
                "/missions/{id}/check": missionRoute(
                    "post",
                    "Run the mission's verify and probes on a commit (the target's head by default) and judge its typed "
                        + "criteria; nothing of the mission changes but one criteria.checked event.",
                    ok: "Check",
                    body: "CheckRequest",
                    bodyRequired: false
                ),
                "/missions/{id}/reject": missionRoute(
                    "post",
                    "Reject what waits for a human (--approve); the reason goes to the group's next attempt.",
                    ok: "Approval",
                    body: "RejectionRequest"
                ),
                "/missions/{id}/attempts": missionRoute("get", "Every attempt of the mission.", ok: "History"),
                "/missions/{id}/attempts/{sequence}": .object([
                    "get": operation(
                        "One attempt with its prompt, transcript, diff, gate output and feedback (each the last "
                            + "256 KiB).",
                        parameters: [
                            idParameter,
                            .object([
                                "name": "sequence", "in": "path", "required": true,
                                "schema": .object(["type": "integer", "minimum": 1, "maximum": .number(2_147_483_647)]),
                            ]),
                        ],
                        responses: [
                            "200": ref("AttemptDetail"), "400": errorResponse("Invalid id or sequence."),
                            "404": errorResponse("No such mission or attempt."),
                        ]
                    )
                ]),
                "/missions/{id}/attempts/{sequence}/steps/{folder}": .object([
                    "get": operation(
                        "One file of a pipeline step's folder (the last 256 KiB): prompt.md, transcript.log, "
                            + "patch.diff, result.json, or out/NAME for an output the step declares.",
                        parameters: [
                            idParameter,
                            .object([
                                "name": "sequence", "in": "path", "required": true,
                                "schema": .object(["type": "integer", "minimum": 1, "maximum": .number(2_147_483_647)]),
                            ]),
                            .object([
                                "name": "folder", "in": "path", "required": true,
                                "description": "The step's folder, as the attempt's steps list it (02_implement.1).",
                                "schema": .object(["type": "string", "minLength": 1, "maxLength": 200]),
                            ]),
                            query(
                                "file",
                                .object(["type": "string", "minLength": 1, "maxLength": 300]),
                                "The file (default result.json)."
                            ),
                        ],
                        responses: [
                            "200": ref("StepFile"), "400": errorResponse("Invalid id, sequence or file name."),
                            "404": errorResponse("No such mission, attempt, step or file."),
                        ]
                    )
                ]),
                "/missions/{id}/events": missionRoute(
                    "get",
                    "Events after an id, oldest first.",
                    ok: "EventList",
                    query: [
                        (
                            "after",
                            .object([
                                "type": "integer", "minimum": 0,
                                "maximum": .number(Double(QueryParameter.largestEventID)),
                            ]), "Only events with a larger id (default 0)."
                        ),
                        (
                            "limit", .object(["type": "integer", "minimum": 1, "maximum": 10_000]),
                            "At most this many (default 1000)."
                        ),
                    ]
                ),
                "/missions/{id}/stream": .object([
                    "get": operation(
                        "Server-Sent Events: each event with its id; resumes after `Last-Event-ID`; ends with an "
                            + "`end` event when the mission ends.",
                        parameters: [
                            idParameter,
                            .object([
                                "name": "Last-Event-ID", "in": "header", "required": false,
                                "schema": .object([
                                    "type": "integer", "minimum": 0,
                                    "maximum": .number(Double(QueryParameter.largestEventID)),
                                ]),
                            ]),
                            .object([
                                "name": "after", "in": "query", "required": false,
                                "description": "As Last-Event-ID, for clients that cannot set headers.",
                                "schema": .object([
                                    "type": "integer", "minimum": 0,
                                    "maximum": .number(Double(QueryParameter.largestEventID)),
                                ]),
                            ]),
                        ],
                        responses: [
                            "200": .object([
                                "description": "An event stream: each event's `data` is an Event as JSON.",
                                "content": .object([
                                    "text/event-stream": .object(["schema": ref(schema: "StreamEvent")])
                                ]),
                            ]),
                            "400": errorResponse("Invalid Last-Event-ID or after."),
                            "404": errorResponse("No such mission."),
                        ]
                    )
                ]),
                "/missions/{id}/checklist": missionRoute(
                    "get",
                    "The mission's acceptance checklist, as Markdown and JSON.",
                    ok: "Checklist"
                ),
                "/mcp": mcpPath,
                "/webhook": .object([
                    "post": operation(
                        "Submit a mission from another system. Needs a bearer token (scoped tokens only reach their "
                            + "repositories); rate-limited per token.",
                        body: "CreateMission",
                        idempotent: true,
                        responses: [
                            "202": ref("Mission", links: true), "200": ref("DryRun"), "400": invalidMission,
                            "401": errorResponse("Missing or invalid token."),
                            "403": errorResponse("Repository outside the token's scope."),
                            "409": errorResponse("Repeated Idempotency-Key; `mission_id` names the first mission."),
                            "413": errorResponse("Body too large."),
                            "429": errorResponse("Rate limit; see Retry-After."),
                        ]
                    )
                ]),
            ]),
        ])
    }

    /// A response whose body is text of `type`.
    static func text(_ type: String, _ description: String) -> JSONValue {
        .object([
            "description": .string(description),
            "content": .object([.init(type): .object(["schema": .object(["type": "string"])])]),
        ])
    }

    private static let idParameter: JSONValue = .object([
        "name": "id", "in": "path", "required": true,
        "schema": .object(["type": "string", "pattern": "^m-[0-9a-f]{8}$"]),
    ])

    /// A JSON response of `schema`; `links` lead from a created mission to the operations on it.
    private static func ref(_ schema: String, links: Bool = false) -> JSONValue {
        var response: [String: JSONValue] = [
            "description": .string(schema),
            "content": .object(["application/json": .object(["schema": ref(schema: schema)])]),
        ]
        if links {
            let operations = [
                ("GetMission", "get", "/missions/{id}"), ("GetAttempts", "get", "/missions/{id}/attempts"),
                ("GetEvents", "get", "/missions/{id}/events"), ("GetChecklist", "get", "/missions/{id}/checklist"),
                ("StreamEvents", "get", "/missions/{id}/stream"), ("StopMission", "post", "/missions/{id}/stop"),
                ("StepMission", "post", "/missions/{id}/step"),
                ("ResumeMission", "post", "/missions/{id}/resume"),
                ("ApproveMission", "post", "/missions/{id}/approve"),
            ]
            response["links"] = .object(
                Dictionary(
                    uniqueKeysWithValues: operations.map { name, method, path in
                        let pointer = path.replacingOccurrences(of: "/", with: "~1")
                        return (
                            name,
                            .object([
                                "operationRef": .string("#/paths/\(pointer)/\(method)"),
                                "parameters": .object(["id": "$response.body#/id"]),
                            ])
                        )
                    }
                )
            )
        }
        return .object(response)
    }

    private static func ref(schema: String) -> JSONValue {
        .object(["$ref": .string("#/components/schemas/\(schema)")])
    }

    /// A request that fits the schema may still be refused: a file it names is missing, a program is not installed,
    /// two fields disagree, no backend is set here or in the repository's flotilla.toml.
    private static let invalidMission = errorResponse(
        "Invalid body: a field does not fit its schema, or the mission cannot run as asked (a file or program it "
            + "names is missing, fields disagree, no backend here or in flotilla.toml); `fields` names each problem."
    )

    static func errorResponse(_ description: String) -> JSONValue {
        .object([
            "description": .string(description),
            "content": .object([
                "application/json": .object(["schema": .object(["$ref": "#/components/schemas/Error"])])
            ]),
        ])
    }

    static func operation(
        _ summary: String,
        parameters: [JSONValue] = [],
        body: String? = nil,
        bodyRequired: Bool = true,
        idempotent: Bool = false,
        responses: [String: JSONValue]
    ) -> JSONValue {
        var fields: [String: JSONValue] = ["summary": .string(summary), "responses": .object(responses)]
        var parameters = parameters
        if idempotent {
            parameters.append(
                .object([
                    "name": "Idempotency-Key", "in": "header", "required": false,
                    "description": "A retried delivery with the same key starts no second mission (409).",
                    "schema": .object(["type": "string", "maxLength": 200]),
                ])
            )
        }
        if !parameters.isEmpty { fields["parameters"] = .array(parameters) }
        if let body {
            fields["requestBody"] = .object([
                "required": .bool(bodyRequired),
                "content": .object([
                    "application/json": .object(["schema": .object(["$ref": .string("#/components/schemas/\(body)")])])
                ]),
            ])
        }
        return .object(fields)
    }

    private static func route(_ method: String, _ summary: String, ok schema: String?) -> JSONValue {
        .object([
            method: operation(
                summary,
                responses: ["200": schema.map(ref) ?? .object(["description": "OK"])]
            )
        ])
    }

    /// An optional query parameter.
    private static func query(_ name: String, _ schema: JSONValue, _ description: String) -> JSONValue {
        .object([
            "name": .string(name), "in": "query", "required": false, "description": .string(description),
            "schema": schema,
        ])
    }

    private static func missionRoute(
        _ method: String,
        _ summary: String,
        ok schema: String,
        body: String? = nil,
        bodyRequired: Bool = true,
        query: [(String, JSONValue, String)] = []
    ) -> JSONValue {
        let parameters =
            [idParameter]
            + query.map { name, schema, description in Self.query(name, schema, description) }
        var responses: [String: JSONValue] = ["200": ref(schema), "404": errorResponse("No such mission.")]
        if method == "post" { responses["409"] = errorResponse("The mission's state does not allow it.") }
        if body != nil {
            responses["400"] = errorResponse("Invalid body, or one naming what the mission does not have.")
        }
        if !query.isEmpty { responses["400"] = errorResponse("Invalid query parameter.") }
        return .object([
            method: operation(
                summary,
                parameters: parameters,
                body: body,
                bodyRequired: bodyRequired,
                responses: responses
            )
        ])
    }
}
