import FlotillaCore
import Foundation
import GRDB

/// A `model_calls` row: one planner or critic call.
struct ModelCallRow: LedgerRow {
    var id: Int64
    var missionId: String
    var role: String
    var groupId: String?
    var attemptNumber: Int?
    var model: String
    var inputTokens: Int
    var outputTokens: Int
    var cacheReadTokens: Int
    var cacheWriteTokens: Int
    var costUsd: Double
    var durationMs: Int64
    var error: String?
    var createdAt: Double

    var name: String { "model_calls of \(missionId) #\(id)" }

    func record() throws -> ModelCallRecord {
        ModelCallRecord(
            call: ModelCall(
                role: try known(role, "role"),
                attempt: groupId.flatMap { group in attemptNumber.map { AttemptKey(group: group, number: $0) } },
                model: model,
                usage: Usage(
                    inputTokens: inputTokens,
                    outputTokens: outputTokens,
                    cacheReadTokens: cacheReadTokens,
                    cacheWriteTokens: cacheWriteTokens,
                    costUSD: costUsd
                ),
                duration: .milliseconds(durationMs),
                error: error
            ),
            at: Date(ledgerSeconds: createdAt)
        )
    }
}
