/// Receives every event after the ledger stored it: files, the terminal, the HTTP stream.
///
/// Must be cheap and never block: the loop publishes as it records.
package protocol MissionEventSink: Sendable {
    func publish(_ event: MissionEvent)
}
