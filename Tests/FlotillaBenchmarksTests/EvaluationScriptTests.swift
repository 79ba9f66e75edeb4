import FlotillaCore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

/// The evaluation's scripts (scripts/evaluation): its statistics against values worked by hand, the mutations,
/// the visible/hidden split, and the generator, task and grade on a small project packed as an sdist — Python's
/// own tests, run with pytest (which .ci/run installs), no model and no network.
@Suite("Evaluation scripts: python -m unittest", .tags(.medium), .timeLimit(.minutes(20)))
struct EvaluationScriptTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static let python = try? ExecutableLocator.locate(
        "python3",
        environment: FixtureRepository.environment,
        workingDirectory: "/"
    )

    @Test(.enabled(if: python != nil, "python3 is on this machine"))
    func theEvaluationsPythonTestsPass() async throws {
        let python = try #require(Self.python)
        let result = try await SubprocessRunner().run(
            ProcessRequest(
                executable: python,
                arguments: ["-m", "unittest", "discover", "-s", "scripts/evaluation", "-p", "test_*.py", "-v"],
                workingDirectory: Self.root,
                // The scripts' folder is the repository's: no bytecode is written into it.
                environment: FixtureRepository.environment.merging(["PYTHONDONTWRITEBYTECODE": "1"]) { $1 },
                tailLimit: 1 << 16,
                timeout: .seconds(1100)  // 176 s on two busy cores: the generator runs pytest many times
            )
        )
        #expect(result.termination.isSuccess, "\(result.outputTail)")
        #expect(result.outputTail.contains("\nOK"), "\(result.outputTail)")
        #expect(!result.outputTail.contains("skipped"), "\(result.outputTail)")
    }
}
