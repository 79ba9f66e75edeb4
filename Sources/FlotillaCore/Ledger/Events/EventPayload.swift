import Foundation

/// The data of an event of one kind, as scripts, the API, the dashboard and Flotilla itself read it.
///
/// Each kind of event has one payload type (``EventKind/payloadType``); an event's `data` is its payload encoded, and
/// ``MissionEvent/payload(_:)`` reads it back, so nothing reads event data by string keys.
package protocol EventPayload: Codable, Sendable, Equatable {
    /// The kinds of event whose data this is.
    static var kinds: [EventKind] { get }
}

extension MissionEvent {
    /// The event's data as its kind's payload; nil when the event is of another kind, or its data does not fit (an
    /// event from an older Flotilla that lacked a field).
    package func payload<Payload: EventPayload>(_ type: Payload.Type) -> Payload? {
        guard Payload.kinds.contains(kind) else { return nil }
        return try? JSONValue.object(data).decoded(as: type)
    }
}

extension JSONValue {
    /// A payload as event data: the object it encodes to.
    package static func fields(of payload: some EventPayload) -> [String: JSONValue] {
        guard let data = try? EventCoding.encoder.encode(payload),
            case .object(let fields)? = try? EventCoding.decoder.decode(JSONValue.self, from: data)
        else { return [:] }
        return fields
    }

    /// The value decoded as `type`.
    package func decoded<T: Decodable>(as type: T.Type) throws -> T {
        try EventCoding.decoder.decode(type, from: EventCoding.encoder.encode(self))
    }
}

private enum EventCoding {
    static let encoder = JSONEncoder()
    static let decoder = JSONDecoder()
}

extension EventKind {
    /// The payload type of events of this kind.
    package var payloadType: (any EventPayload.Type)? {
        let types: [any EventPayload.Type] = [
            MissionEvent.MissionCreated.self, MissionEvent.MissionStarted.self, MissionEvent.Recovered.self,
            MissionEvent.GroupsApproved.self, MissionEvent.LandingVerified.self, MissionEvent.AttemptStarted.self,
            MissionEvent.AgentFinished.self, MissionEvent.AttemptCommitted.self, MissionEvent.Verified.self,
            MissionEvent.MergeStarted.self, MissionEvent.AttemptLanded.self, MissionEvent.MergeRequeued.self,
            MissionEvent.AttemptFailed.self, MissionEvent.BreakerTripped.self, MissionEvent.MissionFinished.self,
            MissionEvent.ModelCalled.self, MissionEvent.RefsRestored.self, MissionEvent.TestEditsReverted.self,
            MissionEvent.RefsMoved.self, MissionEvent.MissionCrashed.self, MissionEvent.ReviewScored.self,
            MissionEvent.ApprovalRequested.self, MissionEvent.ApprovalDecided.self, MissionEvent.Pushed.self,
            MissionEvent.LandedOnto.self, MissionEvent.NotificationTried.self, MissionEvent.ObjectiveChecked.self,
            MissionEvent.GroupsAdded.self, MissionEvent.SpeculationRanked.self, MissionEvent.TestsBaseline.self,
            MissionEvent.ToolSettingsRestored.self, MissionEvent.NewTestsDeferred.self,
            MissionEvent.ProbesBaseline.self, MissionEvent.CriteriaChecked.self,
            MissionEvent.MissionStepped.self, MissionEvent.StepStarted.self, MissionEvent.StepChangesTakenBack.self,
            PipelineStepRecord.self, MissionEvent.MissionQueued.self, MissionEvent.MissionDequeued.self,
        ]
        // Every kind is listed by exactly one type (a test checks it).
        return types.first { $0.kinds.contains(self) }
    }
}
