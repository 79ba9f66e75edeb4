import FlotillaCore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

/// The dashboard's modules outside the browser.
///
/// The pure ones (formats, the event stream's parsing, the geometry) run under `node --test`, and every one is
/// type-checked by TypeScript from its JSDoc (`// @ts-check`). The live flows are `DashboardBrowserTests`'.
@Suite("Dashboard modules: node --test and the type check", .tags(.medium), .timeLimit(.minutes(5)))
struct DashboardScriptTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let assets = root + "/Sources/FlotillaServer/Dashboard/Assets"

    static func locate(_ tool: String) -> String? {
        try? ExecutableLocator.locate(tool, environment: FixtureRepository.environment, workingDirectory: "/")
    }

    static func run(_ executable: String, _ arguments: [String], in directory: String) async throws -> ProcessResult {
        try await SubprocessRunner().run(
            ProcessRequest(
                executable: executable,
                arguments: arguments,
                workingDirectory: directory,
                environment: FixtureRepository.environment,
                tailLimit: 1 << 16,
                timeout: .seconds(600)  // tsc took over 120 s in a loaded CI run
            )
        )
    }

    @Test(.enabled(if: locate("node") != nil, "Node is on this machine"))
    func thePureModulesPassTheirNodeTests() async throws {
        let node = try #require(Self.locate("node"))
        let result = try await Self.run(node, ["--test", "Tests/Dashboard/"], in: Self.root)
        #expect(result.termination.isSuccess, "\(result.outputTail)")
        #expect(result.outputTail.contains("# fail 0"), "\(result.outputTail)")
    }

    @Test(.enabled(if: locate("tsc") != nil, "TypeScript is on this machine (.ci/run installs node-typescript)"))
    func everyModuleTypeChecksStrictly() async throws {
        let tsc = try #require(Self.locate("tsc"))
        let modules = try FileManager.default.contentsOfDirectory(atPath: Self.assets).filter { $0.hasSuffix(".js") }
        #expect(modules.count > 10)
        let result = try await Self.run(
            tsc,
            [
                "--allowJs", "--checkJs", "--noEmit", "--strict", "--target", "es2022", "--module", "es2022",
                "--moduleResolution", "node", "--lib", "es2022,dom,dom.iterable",
            ] + modules.sorted(),
            in: Self.assets
        )
        #expect(result.termination.isSuccess, "\(result.outputTail)")
    }

    @Test func everyModuleChecksItselfAndKeepsToAHundredAndFiftyLinesOfAHundredAndTwentyColumns() throws {
        for module in try FileManager.default.contentsOfDirectory(atPath: Self.assets) where module.hasSuffix(".js") {
            let text = try String(contentsOfFile: Self.assets + "/" + module, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.first == "// @ts-check", "\(module)")
            #expect(lines.count <= 151, "\(module) has \(lines.count) lines")
            for (number, line) in lines.enumerated() where line.count > 120 {
                Issue.record("\(module):\(number + 1) is \(line.count) columns")
            }
        }
    }
}
