import FlotillaCore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

/// The dashboard in a real headless Chromium, driven by Selenium through Debian's chromium-driver
/// (`Tests/Browser/dashboard_test.py`; `.ci/run` installs them and sets `FLOTILLA_TEST_BROWSER_PYTHON`).
///
/// With `FLOTILLA_SCREENSHOTS=DIR` the script also saves the mission page, running and finished, there (the README's
/// images come from `FLOTILLA_SCREENSHOTS=docs/images`).
@Suite("The dashboard in a real browser", .tags(.large), .timeLimit(.minutes(10)))
struct DashboardBrowserTests {
    static let python = ProcessInfo.processInfo.environment["FLOTILLA_TEST_BROWSER_PYTHON"]

    @Test(.enabled(if: python != nil, "FLOTILLA_TEST_BROWSER_PYTHON names no Python with Selenium"))
    func theDashboardShowsAMissionLiveAndActsOnItWithItsToken() async throws {
        let scratch = try TemporaryDirectory(prefix: "flotilla-browser")
        defer { scratch.remove() }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Browser/dashboard_test.py").path
        let screenshots = ProcessInfo.processInfo.environment["FLOTILLA_SCREENSHOTS"] ?? scratch.path
        let run = try await SubprocessRunner().run(
            ProcessRequest(
                executable: try #require(Self.python),
                arguments: [script, try FlotillaBinary.path(), "--screenshots", screenshots],
                workingDirectory: scratch.path,
                environment: ProcessInfo.processInfo.environment.merging(["HOME": scratch.path]) { $1 },
                timeout: .seconds(330)
            )
        )
        let output = run.standardOutput + run.standardError
        #expect(run.termination.isSuccess, "\(output.suffix(8000))")
        #expect(!output.contains("not ok"), "\(output.suffix(8000))")
        #expect(output.contains("ok - no console errors"), "\(output.suffix(4000))")
        if let figure = output.split(separator: "\n").first(where: { $0.hasPrefix("figure - ") }) {
            print("dashboard: \(figure.dropFirst("figure - ".count))")
        }
    }
}
