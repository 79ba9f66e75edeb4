import FlotillaCore
import Foundation

/// Has the critic's model read what the gate passed for special-casing of the tests (`--hack-check`); a flagged
/// attempt waits for a person before it lands.
struct HackCheckStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        guard state.verification?.passed == true, let check = environment.context.hackCheck,
            let group = environment.mission.checklist.group(state.key.group)
        else { return .next }
        let (held, call) = await check.check(
            state.key,
            group: group,
            changes: state.changeSummary(environment.layout)
        )
        state.pay(call, environment)
        if let held { state.held = [state.held, held].compactMap { $0 }.joined(separator: "; ") }
        return .next
    }
}
