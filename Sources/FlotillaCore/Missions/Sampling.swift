/// How a model picks its tokens: temperature, the nucleus and top-k cut-offs, and the seed.
///
/// Nil fields are the tool's or the server's own default (aider's is temperature 0: greedy). With a seed, every attempt
/// of a mission gets its own (``forAttempt(_:)``), so best-of-N candidates are never copies of each other, and a mission
/// run again asks the same.
package struct Sampling: Sendable, Equatable, Codable {
    package var temperature: Double?
    package var topP: Double?
    package var topK: Int?
    package var seed: Int?

    package init(temperature: Double? = nil, topP: Double? = nil, topK: Int? = nil, seed: Int? = nil) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.seed = seed
    }

    /// The mission's sampling fields.
    package init(_ fields: MissionFields) {
        self.init(temperature: fields.temperature, topP: fields.topP, topK: fields.topK, seed: fields.seed)
    }

    package var isEmpty: Bool { temperature == nil && topP == nil && topK == nil && seed == nil }

    /// The same, with the seed mixed with the attempt's key (FNV-1a of `group#number`): distinct per attempt, the same
    /// for the same attempt of the same mission.
    package func forAttempt(_ key: AttemptKey) -> Sampling {
        guard let seed else { return self }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(truncatingIfNeeded: seed)
        for byte in "\(key.group)#\(key.number)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        var copy = self
        copy.seed = Int(hash % 2_147_483_647)
        return copy
    }

    /// The request fields of an OpenAI-compatible chat completion (llama.cpp's server reads `top_k` too).
    package var openAIFields: [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        if let temperature { fields["temperature"] = .number(temperature) }
        if let topP { fields["top_p"] = .number(topP) }
        if let topK { fields["top_k"] = .number(Double(topK)) }
        if let seed { fields["seed"] = .number(Double(seed)) }
        return fields
    }
}
