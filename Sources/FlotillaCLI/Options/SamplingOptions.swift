import ArgumentParser
import FlotillaCore

/// How models sample, shared by `run` (the mission's agents and model roles, and its planner) and `plan`.
struct SamplingOptions: ParsableArguments {
    @Option(
        help: """
            Sampling temperature, 0–2, for aider, mini, the planner, critic and reviewer (default: each tool's own; \
            aider's is 0, which decodes greedily: every retry of the same prompt then gets the same answer).
            """
    )
    var temperature: Double?

    @Option(help: "Nucleus sampling: the probability mass kept, 0–1.")
    var topP: Double?

    @Option(help: "Sample from the K likeliest tokens only (llama.cpp's server and Anthropic take it).")
    var topK: Int?

    @Option(
        help: """
            The sampling seed: each attempt derives its own from it and its group#number, so best-of-N candidates \
            differ and a rerun asks the same.
            """
    )
    var seed: Int?

    func validate() throws {
        if let temperature, !(0...2).contains(temperature) {
            throw ValidationError("--temperature must be between 0 and 2")
        }
        if let topP, !(0...1).contains(topP) { throw ValidationError("--top-p must be between 0 and 1") }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
        if let seed, !(0...2_147_483_647).contains(seed) {
            throw ValidationError("--seed must be between 0 and 2147483647")
        }
    }

    func apply(to fields: inout MissionFields) {
        fields.temperature = temperature
        fields.topP = topP
        fields.topK = topK
        fields.seed = seed
    }
}
