/// List prices of a model, in US dollars per million tokens.
package struct ModelPrice: Sendable, Equatable, Codable {
    package var input: Double
    package var output: Double
    package var cacheRead: Double
    package var cacheWrite: Double

    package init(input: Double, output: Double, cacheRead: Double, cacheWrite: Double) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
    }
}

/// What tokens cost, for agents that report tokens but not dollars.
///
/// Usage is normalised before pricing: `inputTokens` excludes cached input, which is counted in
/// `cacheReadTokens` (and `cacheWriteTokens`), and reasoning tokens are in `outputTokens`.
package struct PricingTable: Sendable, Equatable {
    package var prices: [String: ModelPrice]

    package init(prices: [String: ModelPrice]) {
        self.prices = prices
    }

    /// The price of `model`: the longest key that starts the model's name, after any `provider/` prefix.
    package func price(for model: String) -> ModelPrice? {
        let name = model.split(separator: "/").last.map(String.init)?.lowercased() ?? model.lowercased()
        let match = prices.keys.filter { name.hasPrefix($0) }.max { $0.count < $1.count }
        return match.flatMap { prices[$0] }
    }

    /// Dollars for `usage` on `model`; nil when the model has no price.
    package func cost(of usage: Usage, model: String) -> Double? {
        guard let price = price(for: model) else { return nil }
        let dollars =
            Double(usage.inputTokens) * price.input + Double(usage.outputTokens) * price.output
            + Double(usage.cacheReadTokens) * price.cacheRead + Double(usage.cacheWriteTokens) * price.cacheWrite
        return dollars / 1_000_000
    }

    /// List prices as of 2026 (docs/AGENT-CLIS.md §9); check them against the vendors' pages and override in config.
    package static let builtIn = PricingTable(prices: [
        "claude-opus-4-5": ModelPrice(input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25),
        "claude-opus-4-6": ModelPrice(input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25),
        "claude-opus-4-7": ModelPrice(input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25),
        "claude-opus-4": ModelPrice(input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75),
        "claude-sonnet-4": ModelPrice(input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75),
        "claude-haiku-4": ModelPrice(input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25),
        "opus": ModelPrice(input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25),
        "sonnet": ModelPrice(input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75),
        "haiku": ModelPrice(input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25),
        "gpt-5": ModelPrice(input: 1.25, output: 10, cacheRead: 0.125, cacheWrite: 0),
        "gpt-5-mini": ModelPrice(input: 0.25, output: 2, cacheRead: 0.025, cacheWrite: 0),
        "gemini-2.5-pro": ModelPrice(input: 1.25, output: 10, cacheRead: 0.31, cacheWrite: 0),
        "gemini-2.5-flash": ModelPrice(input: 0.3, output: 2.5, cacheRead: 0.075, cacheWrite: 0),
        "gemini-2.5-flash-lite": ModelPrice(input: 0.1, output: 0.4, cacheRead: 0.025, cacheWrite: 0),
    ])
}
