import FlotillaAPI
import FlotillaCore
import Foundation
import MCP

/// One MCP tool: its name, description and input schema, and its handler.
///
/// One value, so that listing and calling cannot disagree. The schema's properties are the arguments it accepts; any
/// other is refused, named.
struct MissionTool: Sendable {
    let name: String
    let description: String
    let inputSchema: Value
    var annotations = Tool.Annotations()
    /// Makes the tool's one service call; the arguments are already checked against the schema's names.
    let handle: @Sendable (MissionTools, Arguments) async throws -> CallTool.Result

    var tool: Tool { Tool(name: name, description: description, inputSchema: inputSchema, annotations: annotations) }

    /// The arguments the schema names; nil when it names no fixed set (`start_mission` checks its own).
    var accepted: Set<String>? {
        guard inputSchema.objectValue?["additionalProperties"] == .bool(false),
            let properties = inputSchema.objectValue?["properties"]?.objectValue
        else { return nil }
        return Set(properties.keys)
    }
}

/// The tools, each as one value, and each call as one service call.
extension MissionTools {
    static let idSchema: Value = .object([
        "type": "string", "pattern": "^m-[0-9a-f]{8}$", "description": "A mission id (m- and 8 hex digits).",
    ])

    static let groupsSchema: Value = .object([
        "type": "array", "items": .object(["type": "string", "minLength": 1]),
    ])

    static func schema(_ properties: [String: Value], required: [String] = []) -> Value {
        .object([
            "type": "object", "properties": .object(properties), "additionalProperties": false,
            "required": .array(required.map(Value.string)),
        ])
    }

    static let all: [MissionTool] = [
        plan, startMission, missionStatus, listMissions, missionHistory, missionLog, stopMission, stepMission,
        resumeMission,
        approveMission, rejectMission, checkMission,
    ]

    static var tools: [Tool] { all.map(\.tool) }

    /// One tool call: the answer as JSON text (Markdown for `plan`, lines for `mission_log`).
    func call(_ name: String, _ arguments: [String: Value]) async throws -> CallTool.Result {
        guard let tool = Self.all.first(where: { $0.name == name }) else {
            throw MCPError.methodNotFound("no tool \(name); tools/list names them")
        }
        let input = Arguments(tool: name, values: arguments)
        if let accepted = tool.accepted { try input.allow(accepted) }
        return try await tool.handle(self, input)
    }

    static let plan = MissionTool(
        name: "plan",
        description: "Write an acceptance checklist (Markdown) for a goal with the configured planner. "
            + "Nothing is written to the repository; pass the result to start_mission as `acceptance`.",
        inputSchema: schema(
            [
                "goal": .object(["type": "string", "minLength": 1, "description": "The goal, in words."]),
                "repository": .object([
                    "type": "string", "description": "The repository (default: the only one served).",
                ]),
            ],
            required: ["goal"]
        ),
        annotations: .init(readOnlyHint: true)
    ) { tools, input in
        guard let planner = tools.planner else {
            throw FlotillaError.invalid(
                "plan: no planner is configured here; set FLOTILLA_PLANNER_URL (and FLOTILLA_PLANNER_MODEL) or "
                    + "FLOTILLA_PLANNER=anthropic for the process that serves MCP"
            )
        }
        let repository = try input.string("repository") ?? tools.onlyRepository()
        return .init(content: [
            .text(text: try await planner(try input.required("goal"), repository), annotations: nil, _meta: nil)
        ])
    }

    static let startMission = MissionTool(
        name: "start_mission",
        description: "Create a mission and start it in the background; returns its id at once. Fields "
            + "not given come from the repository's flotilla.toml.",
        inputSchema: MCPValue.from(MissionFields.requestSchema)
    ) { tools, input in
        // The mission's fields are checked as the API checks them, each problem named.
        var object = input.values
        let repository = try object.removeValue(forKey: "repository").map { value in
            guard let text = value.stringValue else {
                throw FlotillaError.invalid("start_mission: repository must be a string")
            }
            return text
        }
        var fields = try MissionFields.decode(json: try JSONEncoder().encode(Value.object(object)))
        fields.source = "mcp"
        return try json(try await tools.service.create(fields, repository: try repository ?? tools.onlyRepository()))
    }

    static let missionStatus = MissionTool(
        name: "mission_status",
        description: "A mission's state, groups, cost and limits (default: the latest mission).",
        inputSchema: schema(["id": idSchema]),
        annotations: .init(readOnlyHint: true)
    ) { tools, input in
        if let id = try input.id() { return try json(try await tools.service.require(id)) }
        guard let latest = try await tools.service.missions(in: nil).first, let id = MissionID(latest.id) else {
            throw FlotillaError.notFound("no missions yet: start one with start_mission")
        }
        return try json(try await tools.service.require(id))
    }

    static let listMissions = MissionTool(
        name: "list_missions",
        description: "Missions, newest first, optionally of one state.",
        inputSchema: schema([
            "state": .object([
                "type": "string",
                "enum": .array(MissionDTO.states.map(Value.string)),
            ])
        ]),
        annotations: .init(readOnlyHint: true)
    ) { tools, input in
        let state = try input.string("state")
        let missions = try await tools.service.missions(in: nil).filter { state == nil || $0.state == state }
        return try json(MissionListDTO(missions: missions))
    }

    static let missionHistory = MissionTool(
        name: "mission_history",
        description: "Every attempt of a mission (outcome, reason, cost, commit) and its planner and critic calls.",
        inputSchema: schema(["id": idSchema], required: ["id"]),
        annotations: .init(readOnlyHint: true)
    ) { tools, input in
        try json(try await tools.service.attempts(try input.requiredID()))
    }

    static let missionLog = MissionTool(
        name: "mission_log",
        description: "The last events of a mission, one per line.",
        inputSchema: schema(
            ["id": idSchema, "lines": .object(["type": "integer", "minimum": 1, "maximum": 1000, "default": 50])],
            required: ["id"]
        ),
        annotations: .init(readOnlyHint: true)
    ) { tools, input in
        let id = try input.requiredID()
        _ = try await tools.service.require(id)
        let lines = try input.integer("lines", in: 1...1000) ?? 50
        return .init(content: [.text(text: try await tools.log(id, lines: lines), annotations: nil, _meta: nil)])
    }

    static let stopMission = MissionTool(
        name: "stop_mission",
        description: "Stop a running mission gracefully: running attempts are ended and recorded; its "
            + "process is killed after wait_seconds. end: pause (default, resumable), terminate (never resumed) or "
            + "complete (declared done by a person, with a reason; groups not landed are waived).",
        inputSchema: schema(
            [
                "id": idSchema,
                "wait_seconds": .object(["type": "number", "minimum": 0, "maximum": 3600, "default": 60]),
                "end": .object(["type": "string", "enum": ["pause", "terminate", "complete"], "default": "pause"]),
                "reason": .object(["type": "string", "maxLength": .int(MissionEnd.reasonLimit)]),
            ],
            required: ["id"]
        ),
        annotations: .init(destructiveHint: true)
    ) { tools, input in
        let wait = try input.number("wait_seconds", in: 0...3600) ?? 60
        let end = try MissionEnd(named: try input.string("end"), reason: try input.string("reason"))
        return try json(try await tools.service.stop(try input.requiredID(), wait: .seconds(wait), end: end))
    }

    static let stepMission = MissionTool(
        name: "step_mission",
        description: "Continue a stopped or not yet started mission in the background for `attempts` more attempts "
            + "(default 1), then pause it (stop reason step_limit).",
        inputSchema: schema(
            [
                "id": idSchema,
                "attempts": .object(["type": "integer", "minimum": 1, "maximum": 1000, "default": 1]),
            ],
            required: ["id"]
        )
    ) { tools, input in
        let attempts = try input.integer("attempts", in: 1...1000) ?? 1
        return try json(try await tools.service.step(try input.requiredID(), attempts: attempts))
    }

    static let resumeMission = MissionTool(
        name: "resume_mission",
        description: "Continue a stopped or crashed mission in the background.",
        inputSchema: schema(["id": idSchema], required: ["id"])
    ) { tools, input in
        try json(try await tools.service.resume(try input.requiredID()))
    }

    static let approveMission = MissionTool(
        name: "approve_mission",
        description:
            "Approve what waits for a human (verified landings or the finished mission, with --approve), else "
            + "release the mission's blocked groups (all when `groups` is empty) and resume it.",
        inputSchema: schema(["id": idSchema, "groups": groupsSchema], required: ["id"])
    ) { tools, input in
        try json(try await tools.service.approve(try input.requiredID(), groups: try input.strings("groups")))
    }

    static let rejectMission = MissionTool(
        name: "reject_mission",
        description:
            "Reject what waits for a human (with --approve): the landings of `groups` (all when empty), or "
            + "the finished mission; `reason` goes to the group's next attempt.",
        inputSchema: schema(
            ["id": idSchema, "reason": .object(["type": "string", "minLength": 1]), "groups": groupsSchema],
            required: ["id", "reason"]
        ),
        annotations: .init(destructiveHint: true)
    ) { tools, input in
        guard let reason = try input.string("reason"), !reason.isEmpty else {
            throw FlotillaError.invalid("reject_mission: reason is required: the next attempt is told it")
        }
        return try json(
            try await tools.service.reject(try input.requiredID(), groups: try input.strings("groups"), reason: reason)
        )
    }

    static let checkMission = MissionTool(
        name: "check_mission",
        description:
            "Run a mission's verify and probes again on its target (or `commit`) and judge its typed criteria "
            + "(Metric:, Event:, Predicate:) for `groups` (all when empty); nothing of the mission changes.",
        inputSchema: schema(
            ["id": idSchema, "groups": groupsSchema, "commit": .object(["type": "string", "minLength": 1])],
            required: ["id"]
        )
    ) { tools, input in
        try json(
            try await tools.service.check(
                try input.requiredID(),
                groups: try input.strings("groups"),
                commit: try input.string("commit")
            )
        )
    }

    /// The mission's last `lines` events, as `flotilla logs` prints them.
    func log(_ id: MissionID, lines: Int) async throws -> String {
        let events = try await service.allEvents(id)
        return events.suffix(lines).map { event in
            "\(event.at.formatted(.iso8601)) \(event.kind) \(event.message)"
        }
        .joined(separator: "\n")
    }

    /// The repository a call that names none works in: the only one served.
    func onlyRepository() throws -> String {
        guard service.repositories.count == 1, let only = service.repositories.first else {
            throw FlotillaError.invalid(
                "several repositories are served (\(service.repositories.joined(separator: ", "))): name one "
                    + "with `repository`"
            )
        }
        return only
    }

    static func json(_ value: some Encodable) throws -> CallTool.Result {
        .init(content: [
            .text(
                text: String(decoding: try APIJSON.encoder.encode(value), as: UTF8.self),
                annotations: nil,
                _meta: nil
            )
        ])
    }
}

/// A tool call's arguments, read strictly: an unknown or mistyped argument is an error naming it.
struct Arguments {
    let tool: String
    let values: [String: Value]

    func allow(_ names: Set<String>) throws {
        if let unknown = values.keys.sorted().first(where: { !names.contains($0) }) {
            throw FlotillaError.invalid("\(tool): unknown argument \(unknown)")
        }
    }

    func string(_ name: String) throws -> String? {
        guard let value = values[name], !value.isNull else { return nil }
        guard let text = value.stringValue, !text.trimmingWhitespace().isEmpty else {
            throw FlotillaError.invalid("\(tool): \(name) must be a non-empty string")
        }
        return text
    }

    func required(_ name: String) throws -> String {
        guard let text = try string(name) else { throw FlotillaError.invalid("\(tool): \(name) is required") }
        return text
    }

    func id() throws -> MissionID? {
        try string("id").map { text in
            guard let id = MissionID(text) else {
                throw FlotillaError.invalid("\(tool): \(text) is not a mission id (m- and 8 hex digits)")
            }
            return id
        }
    }

    func requiredID() throws -> MissionID {
        guard let id = try id() else { throw FlotillaError.invalid("\(tool): id is required") }
        return id
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = values[name], !value.isNull else { return nil }
        let number = value.intValue ?? value.doubleValue.flatMap { $0 == $0.rounded() ? Int(exactly: $0) : nil }
        guard let number, range.contains(number) else {
            throw FlotillaError.invalid(
                "\(tool): \(name) must be an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return number
    }

    func number(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let value = values[name], !value.isNull else { return nil }
        guard let number = value.doubleValue ?? value.intValue.map(Double.init), range.contains(number) else {
            throw FlotillaError.invalid(
                "\(tool): \(name) must be a number from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return number
    }

    func strings(_ name: String) throws -> [String] {
        guard let value = values[name], !value.isNull else { return [] }
        guard let items = value.arrayValue?.compactMap(\.stringValue), items.count == value.arrayValue?.count,
            !items.contains(where: { $0.isEmpty })
        else { throw FlotillaError.invalid("\(tool): \(name) must be a list of group ids") }
        return items
    }
}

/// Flotilla's JSON values as MCP's.
enum MCPValue {
    static func from(_ value: JSONValue) -> Value {
        switch value {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? .int(Int(number)) : .double(number)
        case .string(let text): .string(text)
        case .array(let items): .array(items.map(from))
        case .object(let fields): .object(fields.mapValues(from))
        }
    }
}
