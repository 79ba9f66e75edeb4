import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Mission fields: one contract, layered, checked once", .tags(.small))
struct MissionFieldsTests {
    @Test func layersWinByFieldAndListsAddUp() throws {
        var project = MissionFields()
        project.agents = 4
        project.protect = ["secrets/**"]
        project.backend = .claude
        project.fallbackBackends = [.codex]
        var flags = MissionFields()
        flags.agents = 2
        flags.protect = ["docs/**", "secrets/**"]
        flags.fallbackBackends = [.gemini]
        let merged = flags.layered(over: project)
        #expect(merged.agents == 2)
        #expect(merged.backend == .claude)
        // A project's protected paths stay protected; a list of choices is replaced, not added to.
        #expect(merged.protect == ["secrets/**", "docs/**"])
        #expect(merged.fallbackBackends == [.gemini])
        #expect(MissionFields().layered(over: project) == project)
    }

    @Test func theEnvironmentSetsSettingsAndNamesItsVariables() throws {
        let fields = try MissionFields.environment([
            "FLOTILLA_MAX_COST_USD": "2.5", "FLOTILLA_PROTECT": "a/**, b", "FLOTILLA_ALLOW_TEST_EDITS": "yes",
            "FLOTILLA_CRITIC_URL": "http://127.0.0.1:9/v1", "FLOTILLA_GOAL": "not a setting", "HOME": "/root",
        ])
        #expect(fields.goal == nil)
        #expect(fields.maxCostUSD == 2.5)
        #expect(fields.protect == ["a/**", "b"])
        #expect(fields.allowTestEdits == true)
        #expect(fields.criticURL == "http://127.0.0.1:9/v1")
        #expect(throws: FlotillaError.self) { try MissionFields.environment(["FLOTILLA_AGENTS": "many"]) }
        do {
            _ = try MissionFields.environment(["FLOTILLA_AGENTS": "0", "FLOTILLA_SANDBOX": "docker"])
        } catch {
            #expect(error.message.contains("FLOTILLA_AGENTS must be between 1 and 64"))
            #expect(error.message.contains("FLOTILLA_SANDBOX must be one of auto, bwrap, none"))
        }
    }

    @Test func settingsCannotHoldWhatBelongsToOneRequest() {
        #expect(throws: FlotillaError.self) { try MissionFields.decode(["goal": "x"], from: .settings) }
        #expect(throws: FlotillaError.self) { try MissionFields.decode(["dry_run": true], from: .settings) }
        #expect(!MissionFields.settingKeys.contains(.repository))
        #expect(MissionFields.settingKeys.contains(.agents))
    }

    @Test func relativePathsAreTakenFromTheLayersDirectory() throws {
        var fields = MissionFields()
        fields.scenario = "s.json"
        fields.agentBinary = "/usr/bin/claude"
        fields.keyFiles = ["openai=keys/openai"]
        fields.sandboxRead = ["../shared"]
        fields.verify = "./verify.sh"
        let resolved = fields.resolvingPaths(against: "/repo/sub")
        #expect(resolved.scenario == "/repo/sub/s.json")
        #expect(resolved.agentBinary == "/usr/bin/claude")
        #expect(resolved.keyFiles == ["openai=/repo/sub/keys/openai"])
        #expect(resolved.sandboxRead == ["/repo/shared"])
        // A command is not a path.
        #expect(resolved.verify == "./verify.sh")
    }

    @Test func everyDefaultIsValidAndTheResolvedValuesUseThem() throws {
        for key in MissionFields.CodingKeys.allCases {
            if let value = key.rule.defaultValue {
                #expect(key.rule.problem(with: value) == nil, "\(key.rawValue)")
            }
        }
        let empty = MissionFields()
        #expect(empty.agentCount == 2)
        #expect(empty.mergeBatchSize == 8)
        #expect(empty.verifyTimeout == .seconds(1800))
        #expect(
            empty.limits
                == MissionLimits(maxCostUSD: 10, maxWallClock: .seconds(14_400), attemptTimeout: .seconds(1800))
        )
        #expect(empty.rateLimitBackoff == RateLimitBackoff(base: .seconds(30), cap: .seconds(900)))
        var uncapped = MissionFields()
        uncapped.setLimits(MissionLimits(attemptTimeout: .seconds(5), stallThreshold: 2))
        #expect(uncapped.limits == MissionLimits(attemptTimeout: .seconds(5), stallThreshold: 2))
        #expect(try MissionFields.decode(uncapped.jsonObject) == uncapped)
    }

    @Test func everyFieldRoundTripsThroughJSON() throws {
        var fields = MissionFields()
        fields.backend = .aider
        fields.fallbackBackends = [.mini]
        fields.critic = .anthropic
        fields.sandbox = .bwrap
        fields.network = .allowlist
        fields.allowHosts = ["*.example.com", "127.0.0.1:8080"]
        fields.keepBranches = true
        let object = fields.jsonObject
        #expect(object["fallback_backends"] == .array(["mini"]))
        #expect(Set(object.keys).isSubset(of: Set(MissionFields.CodingKeys.allCases.map(\.rawValue))))
        #expect(try MissionFields.decode(object) == fields)
    }

    @Test func samplingIsBoundedAndEachAttemptGetsASeedOfItsOwn() throws {
        #expect(throws: FlotillaError.self) { try MissionFields.decode(["temperature": .number(2.5)]) }
        #expect(throws: FlotillaError.self) { try MissionFields.decode(["top_p": .number(-0.1)]) }
        let fields = try MissionFields.decode(
            ["temperature": .number(0.7), "top_p": .number(0.8), "top_k": .number(20), "seed": .number(42)]
        )
        let sampling = Sampling(fields)
        #expect(sampling == Sampling(temperature: 0.7, topP: 0.8, topK: 20, seed: 42))
        let keys = (1...50).flatMap { number in ["a", "b", "c"].map { AttemptKey(group: $0, number: number) } }
        let seeds = keys.compactMap { sampling.forAttempt($0).seed }
        #expect(Set(seeds).count == keys.count, "distinct per attempt")
        #expect(seeds.allSatisfy { (0..<2_147_483_647).contains($0) })
        #expect(sampling.forAttempt(keys[0]) == sampling.forAttempt(keys[0]), "the same on a rerun")
        #expect(Sampling(seed: 43).forAttempt(keys[0]).seed != Sampling(seed: 42).forAttempt(keys[0]).seed)
        #expect(Sampling(temperature: 1).forAttempt(keys[0]) == Sampling(temperature: 1))
        #expect(sampling.openAIFields == ["temperature": 0.7, "top_p": 0.8, "top_k": 20, "seed": 42])
    }
}
