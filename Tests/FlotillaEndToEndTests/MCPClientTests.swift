import FlotillaCore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

/// The real Python MCP client SDK (PyPI's `mcp`; `.ci/run` installs the pinned 1.x and the current 2.x and sets
/// `FLOTILLA_TEST_MCP_PYTHON` and `FLOTILLA_TEST_MCP2_PYTHON`) against `flotilla mcp` over stdio and `/mcp` of
/// `flotilla serve` (`Tests/MCP/mcp_client_test.py`), each test once per SDK.
@Suite("MCP: the real Python client over stdio and streamable HTTP", .tags(.large), .timeLimit(.minutes(10)))
struct MCPClientTests {
    static let pythons = ["FLOTILLA_TEST_MCP_PYTHON", "FLOTILLA_TEST_MCP2_PYTHON"].compactMap {
        ProcessInfo.processInfo.environment[$0]
    }
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("MCP/mcp_client_test.py").path

    /// A repository whose missions need no more than a goal: its flotilla.toml names a scripted backend.
    func fixture() async throws -> MissionFixture {
        try await MissionFixture(
            checklist: "# Over MCP\n\n## A\n- [ ] a\n\n## B\nDepends on: a\n- [ ] b\n",
            groups: ["a", "b"],
            extraFiles: [
                "scenario.json":
                    #"{"groups": {"a": [{"write": {"a.txt": "a ok\n"}}], "b": [{"write": {"b.txt": "b ok\n"}}]}}"#,
                "flotilla.toml": "backend = \"simulate\"\nscenario = \"scenario.json\"\nverify = \"./verify.sh\"\n",
            ]
        )
    }

    func client(_ python: String, _ arguments: [String], in directory: String) async throws -> String {
        let run = try await SubprocessRunner().run(
            ProcessRequest(
                executable: python,
                arguments: [Self.script] + arguments,
                workingDirectory: directory,
                environment: FixtureRepository.environment.merging(["FLOTILLA_NO_DAEMON": "1"]) { $1 },
                timeout: .seconds(200)
            )
        )
        let output = run.standardOutput + run.standardError
        #expect(run.termination.isSuccess, "\(output.suffix(6000))")
        #expect(!output.contains("not ok"), "\(output.suffix(6000))")
        return output
    }

    @Test(
        .enabled(if: !pythons.isEmpty, "FLOTILLA_TEST_MCP_PYTHON and _MCP2_ name no Python with the mcp package"),
        arguments: pythons
    )
    func overStdioAClientStartsAMissionFollowsItReadsItAndGetsCleanErrors(_ python: String) async throws {
        let fixture = try await fixture()
        defer { fixture.remove() }
        let output = try await client(
            python,
            ["stdio", try FlotillaBinary.path(), fixture.repository.path],
            in: fixture.scratch.path
        )
        #expect(output.contains("ok - polled to completion (completed)"), "\(output.suffix(3000))")
    }

    @Test(
        .enabled(if: !pythons.isEmpty, "FLOTILLA_TEST_MCP_PYTHON and _MCP2_ name no Python with the mcp package"),
        arguments: pythons
    )
    func overHTTPTheSameBehindTheDaemonsToken(_ python: String) async throws {
        let fixture = try await fixture()
        defer { fixture.remove() }
        let token = "mcp-test-token-0123456789"
        let daemon = try await RunningDaemon(
            ["--require-token"],
            in: fixture.repository.path,
            environment: ["FLOTILLA_API_TOKEN": token]
        )
        let output = try await client(
            python,
            ["http", "http://127.0.0.1:\(daemon.port)/mcp", token],
            in: fixture.scratch.path
        )
        #expect(output.contains("ok - without a token /mcp is refused (401)"), "\(output.suffix(3000))")
        #expect(output.contains("ok - polled to completion (completed)"), "\(output.suffix(3000))")
        #expect(await daemon.stop() == 0)
    }
}
