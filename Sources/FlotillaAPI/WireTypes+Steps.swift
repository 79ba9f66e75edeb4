import FlotillaCore
import Foundation

/// One file a pipeline step left.
package struct StepFileDTO: Codable, Sendable, Equatable {
    package var folder: String
    package var file: String
    package var text: String

    /// The files of every step's folder; besides them, `out/NAME` for each output the step declares.
    package static let fixedFiles = ["prompt.md", "transcript.log", "patch.diff", "result.json"]

    package init(folder: String, file: String, text: String) {
        self.folder = folder
        self.file = file
        self.text = text
    }
}

/// One try of a pipeline's step, as its `result.json` says, with the folder that holds its files.
package struct AttemptStepDTO: Codable, Sendable, Equatable {
    package var step: String
    package var number: Int
    package var loop: Int
    package var attempt: Int
    package var status: String
    package var reason: String?
    package var summary: String?
    package var changeStatus: String
    package var backend: String
    package var model: String?
    package var costUSD: Double
    package var inputTokens: Int
    package var outputTokens: Int
    package var durationMS: Int
    package var startedAt: Date
    package var finishedAt: Date
    package var outputs: [String]
    package var snapshot: String?
    /// Its folder under the attempt's `steps/` (`02_implement.1`).
    package var folder: String

    enum CodingKeys: String, CodingKey {
        case step, number, loop
        case attempt = "try"
        case status, reason, summary
        case changeStatus = "change_status"
        case backend, model
        case costUSD = "cost_usd"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case durationMS = "duration_ms"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case outputs, snapshot, folder
    }

    package init(_ record: PipelineStepRecord) {
        step = record.step
        number = record.number
        loop = record.loop
        attempt = record.attempt
        status = record.status.rawValue
        reason = record.reason
        summary = record.summary
        changeStatus = record.changeStatus.rawValue
        backend = record.backend
        model = record.model
        costUSD = record.costUSD
        inputTokens = record.inputTokens
        outputTokens = record.outputTokens
        durationMS = record.durationMS
        startedAt = record.startedAt
        finishedAt = record.finishedAt
        outputs = record.outputs
        snapshot = record.snapshot
        folder = PipelineRun.folder(number: record.number, step: record.step, loop: record.loop)
    }
}
