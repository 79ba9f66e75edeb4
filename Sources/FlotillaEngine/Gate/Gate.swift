import FlotillaCore
import Foundation

/// The objective check.
///
/// It runs the mission's trusted verify command (or a group's own check) in a directory, with `FLOTILLA_GROUPS` naming
/// the groups to check and `FLOTILLA_REPORT` where it may write its report.
///
/// Before every run the trusted copies of the verify scripts (taken from the base commit) are written over
/// whatever the directory holds, so the command that judges is always the one the mission started with.
package struct Gate: Sendable {
    package struct Configuration: Sendable, Equatable {
        package var mission: MissionID
        package var verifyCommand: String?
        /// Group id → that group's own check command.
        package var checks: [String: String]
        /// Repository-relative path → the file at the base commit.
        package var trustedFiles: [String: TrustedFile]
        package var timeout: Duration
        /// The allowlisted environment the commands run with.
        package var environment: [String: String]
        /// The sandbox verify runs execute in.
        package var sandbox: SandboxSettings
        /// The repository's objects, which the checkout's own repository reads.
        package var objects: String
        /// The test runners the harness uses, whose evidence each run collects (``TestEvidence``).
        package var runners: Set<TestRunner> = []
        /// What the verify command's tests did at the base commit; each run of it is judged against that.
        package var baseline: TestBaseline?
        /// Without a sandbox: the programs on the verify's `PATH` when the run started, which must not change.
        package var path: PathSnapshot?
        /// The checklist, for its probes and typed criteria (judged once the commands passed).
        package var checklist = Checklist(title: "", groups: [])
        /// The probes' figures at the base commit (`bench.p95_ms` → value), for `base * k` targets.
        package var baselines: [String: Double] = [:]

        package init(
            mission: MissionID,
            verifyCommand: String?,
            checks: [String: String],
            trustedFiles: [String: TrustedFile],
            timeout: Duration,
            environment: [String: String],
            sandbox: SandboxSettings = .none,
            objects: String = ""
        ) {
            self.sandbox = sandbox
            self.objects = objects
            self.mission = mission
            self.verifyCommand = verifyCommand
            self.checks = checks
            self.trustedFiles = trustedFiles
            self.timeout = timeout
            self.environment = environment
        }
    }

    package static let storedTailBytes = 8 << 10

    package internal(set) var configuration: Configuration
    let runner: any ProcessRunner
    let layout: MissionLayout

    package init(configuration: Configuration, runner: any ProcessRunner, layout: MissionLayout) {
        self.configuration = configuration
        self.runner = runner
        self.layout = layout
    }

    /// The command and `FLOTILLA_GROUPS` value the gate of `group` runs, for prompts.
    package func description(of group: String) -> (command: String, groups: String) {
        if let check = configuration.checks[group] { return (check, group) }
        return (configuration.verifyCommand ?? "", group)
    }

    /// Checks `groups` — and the groups already `landed`, for a regression verify; everything, for the final
    /// one — on `commit`, checked out in `directory`.
    package func verify(
        kind: VerificationKind,
        attempt: AttemptKey?,
        commit: String,
        in directory: String,
        groups: [String],
        alsoLanded landed: [String] = [],
        logPath: String
    ) async throws -> Verification {
        try TrustedFiles.restore(configuration.trustedFiles, in: directory)
        let runs = plan(kind: kind, groups: landed + groups)
        let reportName = "\(attempt?.slug ?? "final")-\(kind.rawValue)"
        var report: [String: JSONValue] = [:]
        var reportGroups: [String: JSONValue] = [:]
        var tests: [TestEvidence] = []
        var total = Duration.zero
        var lastTail = ""
        var failure: (exitCode: Int?, timedOut: Bool)?
        for (index, run) in runs.enumerated() {
            let outcome = try await execute(
                run,
                in: directory,
                reportName: "\(reportName)-\(index + 1)",
                logPath: index == 0 ? logPath : "\(logPath).\(index + 1)"
            )
            let result = outcome.result
            total += result.duration
            lastTail = result.outputTail
            if let parsed = outcome.report {
                reportGroups.merge(parsed.groups) { $1 }
                if let metrics = parsed.metrics { report["metrics"] = metrics }
            }
            tests += outcome.tests
            if result.timedOut || !result.termination.isSuccess {
                failure = (result.termination.exitCode, result.timedOut)
                if result.timedOut {
                    lastTail += "\n[flotilla: verify timed out after \(configuration.timeout.shortDescription)]"
                }
                break
            }
            // Exit 0 is not enough: the tests that passed at the base must have run and passed again.
            if run.command == configuration.verifyCommand, let baseline = configuration.baseline,
                let shortfall = baseline.shortfall(of: outcome.tests, complete: kind == .final)
            {
                failure = (result.termination.exitCode, false)
                lastTail += "\n[flotilla: the verify exited 0, but \(shortfall)]"
                break
            }
        }
        if failure == nil {
            let reports = (layout.report(configuration.mission, "\(reportName)-probes") as NSString)
                .deletingLastPathComponent
            let scope = kind == .final ? configuration.checklist.groupIDs : landed + groups
            if let judgement = try await judgeCriteria(kind: kind, groups: scope, in: directory, reports: reports) {
                // A landing keeps the results of the groups it lands, and of the landed ones only what failed: the
                // record of a mission grows linearly with its groups.
                let own = Set(groups)
                let kept = judgement.results.filter {
                    kind != .regression || own.contains($0.group) || $0.status != .met
                }
                report["typed_criteria"] = Self.json(kept)
                report["probes"] = Self.json(judgement.runs.map(ProbeSummary.init))
                if let reason = judgement.reason {
                    report["criteria_reason"] = .string(reason)
                    failure = (0, false)
                    lastTail += "\n[flotilla: the verify passed, but \(reason)]"
                }
            }
        }
        if !tests.isEmpty { report["tests"] = TestEvidence.json(tests.map(\.counts)) }
        if !reportGroups.isEmpty { report["groups"] = .object(reportGroups) }
        return Verification(
            kind: kind,
            attempt: attempt,
            commit: commit,
            command: Self.describe(runs, landed: landed),
            groups: kind == .final ? [] : groups,
            landedGroupsChecked: landed.count,
            exitCode: failure.map { $0.exitCode } ?? 0,
            passed: failure == nil,
            timedOut: failure?.timedOut ?? false,
            duration: total,
            outputTail: lastTail.utf8Tail(Self.storedTailBytes),
            report: report.isEmpty ? nil : .object(report)
        )
    }

    /// One run of a command: in the sandbox, writing only its checkout, its report and its test evidence; the gate's
    /// own files read-only.
    func execute(
        _ run: (command: String, groups: String),
        in directory: String,
        reportName: String,
        logPath: String
    ) async throws -> (result: ProcessResult, report: VerifyReport?, tests: [TestEvidence]) {
        let reportPath = layout.report(configuration.mission, reportName)
        let reports = (reportPath as NSString).deletingLastPathComponent
        try? FileManager.default.removeItem(atPath: reports)
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        var environment = configuration.environment
        environment["FLOTILLA_GROUPS"] = run.groups
        environment["FLOTILLA_REPORT"] = reportPath
        environment["FLOTILLA_MISSION"] = configuration.mission.rawValue
        if let changed = configuration.path?.changes(), !changed.isEmpty {
            throw FlotillaError(
                .internal,
                "a program on the verify's PATH changed while the mission ran ("
                    + changed.prefix(5).joined(separator: ", ")
                    + "): without a sandbox an agent can plant one there, so the gate does not run; use --sandbox bwrap, "
                    + "or take the directory off PATH"
            )
        }
        let probe = try evidenceProbe(reports: reports, environment: &environment)
        var request = ProcessRequest.shell(run.command, workingDirectory: directory, environment: environment)
        request.outputFile = logPath
        request.timeout = configuration.timeout
        // It runs code the agents wrote: in the sandbox, writing only its checkout and its report. The gate's own
        // files stay read-only, so the code it runs cannot rewrite them under it (bash reads its script as it runs).
        request.confinement = configuration.sandbox.verify(
            checkout: directory,
            reports: reports,
            objects: configuration.objects,
            layout: layout,
            readable: probe.map { [$0.plugin] } ?? [],
            fixed: configuration.trustedFiles.keys.sorted().map { (directory as NSString).appendingPathComponent($0) }
        )
        let result = try await runner.run(request)
        let report = FileManager.default.regularFileContents(atPath: reportPath, limit: VerifyReport.maximumBytes)
            .flatMap(VerifyReport.read)
        let tests = probe.map { collectEvidence($0, log: logPath, tail: result.outputTail) } ?? []
        return (result, report, tests)
    }

    /// The commands as recorded: the landed groups are counted, not listed, so that the record of a mission grows
    /// linearly with its groups (the list is in the ledger already, as the groups landed before this verify).
    private static func describe(_ runs: [(command: String, groups: String)], landed: [String]) -> String {
        let landedSet = Set(landed)
        var parts: [String] = []
        var landedChecks = 0
        for run in runs {
            let ids = run.groups.split(separator: ",").map(String.init)
            if ids.count == 1, landedSet.contains(ids[0]) {
                landedChecks += 1
                continue
            }
            let fresh = ids.filter { !landedSet.contains($0) }
            let shown = (ids.count > fresh.count ? ["<\(ids.count - fresh.count) landed>"] : []) + fresh
            parts.append("FLOTILLA_GROUPS=\(shown.joined(separator: ",")) \(run.command)")
        }
        if landedChecks > 0 { parts.append("(and the checks of \(landedChecks) landed groups)") }
        return parts.joined(separator: " ; ")
    }

    /// The commands to run: one verify run for the groups without their own check, then each group's check.
    ///
    /// A landing's regression verify runs the mission's verify command over every group it lands and every group
    /// landed, checks or not: a group's check may be as weak as whoever wrote it, and the target must still pass the
    /// verify the user gave.
    private func plan(kind: VerificationKind, groups: [String]) -> [(command: String, groups: String)] {
        var runs: [(command: String, groups: String)] = []
        switch kind {
        case .final:
            if let verify = configuration.verifyCommand { runs.append((verify, "")) }
            for group in groups { if let check = configuration.checks[group] { runs.append((check, group)) } }
            return runs
        case .regression:
            if let verify = configuration.verifyCommand { runs.append((verify, groups.joined(separator: ","))) }
            for group in groups { if let check = configuration.checks[group] { runs.append((check, group)) } }
            return runs
        case .gate: break
        }
        let unchecked = groups.filter { configuration.checks[$0] == nil }
        if !unchecked.isEmpty, let verify = configuration.verifyCommand {
            runs.append((verify, unchecked.joined(separator: ",")))
        }
        for group in groups { if let check = configuration.checks[group] { runs.append((check, group)) } }
        return runs
    }
}
