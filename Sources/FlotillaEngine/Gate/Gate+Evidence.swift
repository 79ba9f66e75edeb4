import FlotillaCore
import Foundation

extension Gate {
    /// Where one run's test evidence goes: the pytest plugin's directory (read-only to the run) and the directory it
    /// writes its record in (beside the run's report, outside the checkout).
    struct EvidenceProbe {
        let plugin: String
        let records: String
    }

    /// The most of a run's log read for the runners' summary lines (they are at its end).
    static let summaryBytes = 4 << 20

    /// Sets up the evidence of a run whose harness uses a test runner: for pytest, its plugin and the variables that
    /// load it (`PYTEST_ADDOPTS`, `PYTHONPATH`, `FLOTILLA_EVIDENCE`), added to what the environment already says.
    func evidenceProbe(reports: String, environment: inout [String: String]) throws -> EvidenceProbe? {
        let testRunners = configuration.runners.subtracting([.make, .npm, .tox])
        guard !testRunners.isEmpty else { return nil }
        let plugin = layout.evidencePlugin(configuration.mission)
        let source = (plugin as NSString).appendingPathComponent(PytestEvidence.module + ".py")
        if FileManager.default.contents(atPath: source) != Data(PytestEvidence.source.utf8) {
            try FileManager.default.createDirectory(atPath: plugin, withIntermediateDirectories: true)
            try Data(PytestEvidence.source.utf8).write(to: URL(fileURLWithPath: source), options: .atomic)
        }
        let records = (reports as NSString).appendingPathComponent("evidence")
        try FileManager.default.createDirectory(atPath: records, withIntermediateDirectories: true)
        if testRunners.contains(.pytest) {
            environment["FLOTILLA_EVIDENCE"] = records
            environment["PYTEST_ADDOPTS"] =
                (["-p", PytestEvidence.module] + [environment["PYTEST_ADDOPTS"]].compactMap { $0 })
                .joined(separator: " ")
            environment["PYTHONPATH"] = ([plugin] + [environment["PYTHONPATH"]].compactMap { $0 }).joined(
                separator: ":"
            )
        }
        return EvidenceProbe(plugin: plugin, records: records)
    }

    /// What the run's runners did: pytest's own record, and the other runners' summary lines at the end of its log.
    func collectEvidence(_ probe: EvidenceProbe, log: String, tail: String) -> [TestEvidence] {
        var evidence: [TestEvidence] = []
        let records = ((try? FileManager.default.contentsOfDirectory(atPath: probe.records)) ?? []).sorted()
            .filter { $0.hasPrefix("pytest-") && $0.hasSuffix(".jsonl") }
            .compactMap {
                FileManager.default.regularFileContents(
                    atPath: (probe.records as NSString).appendingPathComponent($0),
                    limit: 64 << 20
                )
            }
            .map { String(decoding: $0, as: UTF8.self) }
        if let pytest = PytestEvidence.read(records) { evidence.append(pytest) }
        let others = configuration.runners.subtracting([.pytest, .make, .npm, .tox])
        if !others.isEmpty {
            let output = Self.logEnd(log) ?? tail
            evidence += TestSummaryReader.read(output, runners: others)
        }
        return evidence
    }

    /// The last ``summaryBytes`` of a log.
    static func logEnd(_ path: String) -> String? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        let size = (try? file.seekToEnd()) ?? 0
        try? file.seek(toOffset: size > UInt64(summaryBytes) ? size - UInt64(summaryBytes) : 0)
        return (try? file.readToEnd()).map { String(decoding: $0, as: UTF8.self) }
    }

    /// What the verify command's tests do at the base commit, checked out in `directory`.
    ///
    /// Every later run of the verify command is judged against it. Its exit status does not matter: at the base, the
    /// work is not done yet.
    func baseline(commit: String, in directory: String, logPath: String) async throws -> TestBaseline? {
        guard let verify = configuration.verifyCommand else { return nil }
        try TrustedFiles.restore(configuration.trustedFiles, in: directory)
        let outcome = try await execute((verify, ""), in: directory, reportName: "baseline", logPath: logPath)
        return TestBaseline(tests: outcome.tests)
    }

    /// The gate, judging the verify command's runs against `baseline`.
    func judging(against baseline: TestBaseline?) -> Gate {
        var gate = self
        gate.configuration.baseline = baseline
        return gate
    }
}

extension TestEvidence {
    /// Evidence as the JSON a verification's report keeps.
    static func json(_ evidence: [TestEvidence]) -> JSONValue {
        let data = (try? JSONEncoder().encode(evidence)) ?? Data("[]".utf8)
        return (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .array([])
    }
}
