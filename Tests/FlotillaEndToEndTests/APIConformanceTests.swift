import FlotillaAPI
import FlotillaCore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

/// Schemathesis (from PyPI; `.ci/run` installs it and sets `FLOTILLA_TEST_SCHEMATHESIS`) against the document the
/// daemon serves: every operation, generated from the schema, with a mission id it can reach.
@Suite("The served OpenAPI document holds: Schemathesis finds no failure", .tags(.large), .timeLimit(.minutes(10)))
struct APIConformanceTests {
    static let schemathesis = ProcessInfo.processInfo.environment["FLOTILLA_TEST_SCHEMATHESIS"]

    @Test(.enabled(if: schemathesis != nil, "FLOTILLA_TEST_SCHEMATHESIS names no Schemathesis (`st`) to run"))
    func schemathesisFindsNoFailureAndNoServerError() async throws {
        let st = try #require(Self.schemathesis)
        let scenario = #"{"groups": {"a": [{"write": {"a.txt": "a ok\n"}}]}}"#
        // The repository says how its missions run, so a request that only names fields is complete.
        let fixture = try await MissionFixture(
            checklist: "# Conformance\n\n## A\n- [ ] a\n",
            groups: ["a"],
            extraFiles: [
                "scenario.json": scenario,
                "flotilla.toml": "backend = \"simulate\"\nscenario = \"scenario.json\"\nverify = \"./verify.sh\"\n",
            ]
        )
        defer { fixture.remove() }
        let token = "conformance-token-0123456789"
        let daemon = try await RunningDaemon(
            ["--rate-per-minute", "1000000", "--burst", "100000"],
            in: fixture.repository.path,
            environment: ["FLOTILLA_API_TOKEN": token]
        )
        let http = daemon.client(token: token)
        let created = try await http.send("POST", "/missions", body: Data("{}".utf8))
        #expect(created.status == 201, "\(created.text)")
        let mission = try created.decode(MissionDTO.self)
        _ = try await EventCollector.collect(http, mission: mission.id)

        let configuration = try fixture.scratch.write(
            "schemathesis.toml",
            """
            [parameters]
            "path.id" = "\(mission.id)"
            "path.sequence" = 1

            # A mission request that fits the schema may still name a file that is missing, a program that is not
            # installed, or a group the mission does not have; a JSON-RPC message that fits may name no method or come
            # before initialize (400), or not say it accepts JSON (406), as the document says.
            [[operations]]
            include-path-regex = "^/(missions|webhook|mcp|missions/\\\\{id\\\\}/(approve|reject|land))$"
            include-method = "POST"
            checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "406", "409", "429"]

            """
        )
        let run = try await SubprocessRunner().run(
            ProcessRequest(
                executable: st,
                arguments: [
                    "--config-file", configuration, "run", "http://127.0.0.1:\(daemon.port)/openapi.json",
                    "--header", "Authorization: Bearer \(token)", "--max-examples", "25", "--workers", "1",
                    "--seed", "20261201",
                ],
                workingDirectory: fixture.scratch.path,
                environment: FixtureRepository.environment.merging(["NO_COLOR": "1"]) { $1 },
                timeout: .seconds(500)
            )
        )
        let output = run.standardOutput + run.standardError
        #expect(run.termination.isSuccess, "\(output.suffix(6000))")
        #expect(!output.contains("Server error"), "\(output.suffix(6000))")
        #expect(output.contains("passed"), "\(output.suffix(2000))")
        // What it tried, for the log: the figures of the run.
        if let summary = output.split(separator: "\n").last(where: { $0.contains("generated") }) {
            print("schemathesis: \(summary.trimmingCharacters(in: .whitespaces))")
        }

        // Every mission the generated requests started has ended before the repository goes.
        for listed in try await http.send("GET", "/missions").decode(MissionListDTO.self).missions
        where listed.state == "running" {
            _ = try await http.send("POST", "/missions/\(listed.id)/stop?wait=10")
        }
        for listed in try await http.send("GET", "/missions").decode(MissionListDTO.self).missions {
            guard let id = MissionID(listed.id) else { continue }
            #expect(await MissionProcesses.waitUntilNoneRuns(id) == [])
        }
        #expect(await daemon.stop() == 0)
    }
}
