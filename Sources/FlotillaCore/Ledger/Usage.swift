import Foundation

/// Token counts and money of one agent run (or LLM call).
package struct Usage: Sendable, Equatable, Codable {
    package var inputTokens: Int
    package var outputTokens: Int
    package var cacheReadTokens: Int
    package var cacheWriteTokens: Int
    /// Dollars as the backend reported them, else as computed from a pricing table.
    package var costUSD: Double

    package init(
        inputTokens: Int = 0,
        outputTokens: Int = 0,
        cacheReadTokens: Int = 0,
        cacheWriteTokens: Int = 0,
        costUSD: Double = 0
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.costUSD = costUSD
    }

    package static let zero = Usage()

    /// The most tokens one figure may count: far above any real session, far below what overflows a sum.
    package static let tokenLimit = 1_000_000_000_000
    /// The most dollars one figure may hold; a tool reporting more is believed up to this (so breakers trip).
    package static let costLimitUSD = 1_000_000.0

    /// A token count from a number a tool printed: anything not finite or below zero is 0, anything above
    /// ``tokenLimit`` is ``tokenLimit``.
    package static func tokens(_ value: Double?) -> Int {
        guard let value, value.isFinite, value > 0 else { return 0 }
        return value >= Double(tokenLimit) ? tokenLimit : Int(value.rounded())
    }

    /// Dollars from a number a tool printed: nil when it is not a finite, non-negative number, capped at
    /// ``costLimitUSD``.
    package static func dollars(_ value: Double?) -> Double? {
        guard let value, value.isFinite, value >= 0 else { return nil }
        return min(value, costLimitUSD)
    }

    /// This usage with every figure within its bounds; what every reader of a tool's output hands on.
    package var bounded: Usage {
        Usage(
            inputTokens: min(max(0, inputTokens), Self.tokenLimit),
            outputTokens: min(max(0, outputTokens), Self.tokenLimit),
            cacheReadTokens: min(max(0, cacheReadTokens), Self.tokenLimit),
            cacheWriteTokens: min(max(0, cacheWriteTokens), Self.tokenLimit),
            costUSD: Self.dollars(costUSD) ?? 0
        )
    }

    /// Adds another usage; sums saturate instead of overflowing, whatever the figures.
    package mutating func add(_ other: Usage) {
        inputTokens = Self.sum(inputTokens, other.inputTokens)
        outputTokens = Self.sum(outputTokens, other.outputTokens)
        cacheReadTokens = Self.sum(cacheReadTokens, other.cacheReadTokens)
        cacheWriteTokens = Self.sum(cacheWriteTokens, other.cacheWriteTokens)
        let cost = costUSD + other.costUSD
        costUSD = cost.isFinite ? cost : .greatestFiniteMagnitude
    }

    private static func sum(_ a: Int, _ b: Int) -> Int {
        let (result, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? Int.max : Int.min) : result
    }

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cacheReadTokens = "cache_read_tokens"
        case cacheWriteTokens = "cache_write_tokens"
        case costUSD = "cost_usd"
    }
}

/// Lines added and removed by a commit.
package struct DiffStat: Sendable, Equatable, Codable {
    package var files: Int
    package var insertions: Int
    package var deletions: Int

    package init(files: Int = 0, insertions: Int = 0, deletions: Int = 0) {
        self.files = files
        self.insertions = insertions
        self.deletions = deletions
    }

    package var description: String { "\(files) file\(files == 1 ? "" : "s"), +\(insertions) −\(deletions)" }
}
