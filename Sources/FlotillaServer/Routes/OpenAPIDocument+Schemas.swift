import FlotillaAPI
import FlotillaCore
import Foundation

/// The document's schemas: the request's from the mission fields' rules, the rest written out.
extension OpenAPIDocument {
    static var components: JSONValue {
        func object(_ properties: [String: String], required: [String] = []) -> JSONValue {
            .object([
                "type": "object",
                "properties": .object(
                    properties.mapValues { type in
                        type.hasPrefix("#")
                            ? .object(["$ref": .string(type)])
                            : type.hasPrefix("[")
                                ? .object([
                                    "type": "array", "items": .object(["$ref": .string(String(type.dropFirst()))]),
                                ])
                                : .object(["type": .string(type)])
                    }
                ),
                "required": .array(required.map(JSONValue.string)),
            ])
        }
        return .object([
            "schemas": .object([
                "CreateMission": MissionFields.requestSchema,
                "Mission": object(
                    [
                        "id": "string", "goal": "string", "state": "string", "stop_reason": "string",
                        "repository": "string", "base_commit": "string", "target_branch": "string",
                        "awaiting_approval": "array", "target_head": "string", "agents": "integer", "backend": "string",
                        "cost_usd": "number",
                        "attempts": "integer", "groups_done": "integer", "groups_total": "integer",
                        "created_at": "string", "groups": "[#/components/schemas/Group", "limits": "object",
                        "tags": "array", "metadata": "object", "source": "string",
                    ],
                    required: ["id", "goal", "state", "repository", "target_branch"]
                ),
                "Group": object([
                    "id": "string", "title": "string", "status": "string", "depends_on": "array",
                    "attempts": "integer", "cost_usd": "number", "landed_commit": "string", "layer": "integer",
                    "added_by": "string", "typed_criteria": "[#/components/schemas/TypedCriterion",
                ]),
                "Check": object(
                    [
                        "mission": "string", "commit": "string", "groups": "array", "passed": "boolean",
                        "exit_code": "integer", "reason": "string", "criteria": "array", "output_tail": "string",
                    ],
                    required: ["mission", "commit", "groups", "passed", "criteria", "output_tail"]
                ),
                "CheckRequest": .object([
                    "type": "object",
                    "additionalProperties": false,
                    "properties": .object([
                        "groups": .object([
                            "type": "array", "maxItems": 1000,
                            "items": .object(["type": "string", "pattern": "^[a-z][a-z0-9_]*$"]),
                        ]),
                        "commit": .object([
                            "type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[^-:\\s][^:\\s]*$",
                        ]),
                    ]),
                ]),
                "TypedCriterion": object(
                    [
                        "id": "string", "kind": "string", "expression": "string", "required": "boolean",
                        "status": "string", "value": "number", "best_value": "number", "target": "number",
                        "evidence": "string",
                    ],
                    required: ["id", "kind", "expression", "required"]
                ),
                "MissionList": object(["missions": "[#/components/schemas/Mission"], required: ["missions"]),
                "Attempt": object([
                    "sequence": "integer", "group": "string", "number": "integer", "phase": "string",
                    "outcome": "string", "reason": "string", "cost_usd": "number", "commit": "string",
                    "backend": "string", "sandbox": "string", "tests": "string", "criteria_results": "array",
                    "steps": "[#/components/schemas/AttemptStep",
                ]),
                "AttemptStep": object(
                    [
                        "step": "string", "number": "integer", "loop": "integer", "try": "integer", "status": "string",
                        "reason": "string", "summary": "string", "change_status": "string", "backend": "string",
                        "model": "string", "cost_usd": "number", "input_tokens": "integer", "output_tokens": "integer",
                        "duration_ms": "integer", "started_at": "string", "finished_at": "string",
                        "outputs": "array", "snapshot": "string", "folder": "string",
                    ],
                    required: ["step", "number", "loop", "try", "status", "change_status", "backend", "folder"]
                ),
                "AttemptDetail": object(
                    [
                        "mission": "string", "attempt": "#/components/schemas/Attempt", "prompt": "string",
                        "transcript": "string", "diff": "string", "gate_output": "string", "feedback": "string",
                    ],
                    required: ["mission", "attempt"]
                ),
                "StepFile": object(
                    ["folder": "string", "file": "string", "text": "string"],
                    required: ["folder", "file", "text"]
                ),
                "History": object(
                    [
                        "mission": "string", "attempts": "[#/components/schemas/Attempt",
                        "model_calls": "[#/components/schemas/ModelCall",
                        "notifications": "[#/components/schemas/Notification",
                    ],
                    required: ["mission", "attempts"]
                ),
                "Notification": object(
                    [
                        "target": "string", "kind": "string", "category": "string", "event": "string",
                        "state": "string", "tries": "integer", "last_error": "string", "created_at": "string",
                        "finished_at": "string", "next_at": "string",
                    ],
                    required: ["target", "kind", "category", "event", "state", "tries"]
                ),
                "ModelCall": object(
                    [
                        "role": "string", "group": "string", "attempt": "integer", "model": "string",
                        "input_tokens": "integer", "output_tokens": "integer", "cost_usd": "number",
                        "duration_ms": "integer", "error": "string", "at": "string",
                    ],
                    required: ["role", "model", "cost_usd"]
                ),
                "Event": object(
                    [
                        "id": "integer", "mission": "string", "at": "string", "kind": "string", "group": "string",
                        "attempt": "integer", "message": "string", "data": "object",
                    ],
                    required: ["id", "mission", "kind", "message"]
                ),
                "EventList": object(["events": "[#/components/schemas/Event"], required: ["events"]),
                "Checklist": object(["markdown": "string", "checklist": "object"], required: ["markdown"]),
                "LandRequest": .object([
                    "type": "object",
                    "additionalProperties": false,
                    "required": .array(["onto"]),
                    "properties": .object([
                        "onto": .object(["type": "string", "minLength": 1, "pattern": "^[^-:\\s][^:\\s]*$"])
                    ]),
                ]),
                "Landing": object(
                    [
                        "branch": "string", "from": "string", "commit": "string", "how": "string",
                        "mission": "#/components/schemas/Mission",
                    ],
                    required: ["branch", "from", "how", "mission"]
                ),
                "RejectionRequest": .object([
                    "type": "object",
                    "additionalProperties": false,
                    "required": .array(["reason"]),
                    "properties": .object([
                        "reason": .object(["type": "string", "minLength": 1, "pattern": "\\S"]),
                        "groups": .object(["type": "array", "items": .object(["type": "string", "minLength": 1])]),
                    ]),
                ]),
                "ApprovalRequest": .object([
                    "type": "object",
                    "additionalProperties": false,
                    "description": "No body, or no groups, releases every blocked group.",
                    "properties": .object([
                        "groups": .object(["type": "array", "items": .object(["type": "string", "minLength": 1])])
                    ]),
                ]),
                "StreamEvent": .object([
                    "type": "object",
                    "required": .array(["data"]),
                    "properties": .object([
                        "id": .object(["type": "string", "pattern": "^[0-9]+$"]),
                        "event": .object(["type": "string"]),
                        "data": .object(["type": "string", "contentMediaType": "application/json"]),
                        "retry": .object(["type": "integer"]),
                    ]),
                ]),
                "Approval": object(["released": "array", "mission": "#/components/schemas/Mission"]),
                "DryRun": object(["valid": "boolean"]),
                "Status": object(["status": "string"]),
                "Error": .object([
                    "type": "object",
                    "required": .array(["error"]),
                    "properties": .object([
                        "error": object(
                            ["code": "string", "message": "string", "fields": "array", "mission_id": "string"],
                            required: ["code", "message"]
                        )
                    ]),
                ]),
            ])
        ])
    }
}
