import FlotillaCore
import Foundation

/// The probes beside the gate: once the verify (and the groups' checks) passed, Flotilla runs the probes the
/// checked groups' typed criteria read, itself, on the same clean checkout, confined like the verify, and judges the
/// criteria by the verdict cascade (``CriteriaCascade``).
///
/// Nothing the agent can write decides a figure: the probes' commands and the files they run come from the base
/// (restored before every run, read-only while it runs), a probe's result file is removed before it runs (and an
/// attempt that commits one is rejected before its gate), and what the verify wrote to `FLOTILLA_REPORT` is never read
/// here.
extension Gate {
    /// What the probes gave and how each typed criterion came out.
    struct Judgement {
        var runs: [ProbeRun] = []
        var results: [CriterionResult] = []
        var reason: String?
    }

    /// Runs the probes of `groups` that run at a verification of `kind`, and judges their criteria.
    func judgeCriteria(
        kind: VerificationKind,
        groups: [String],
        in directory: String,
        reports: String
    ) async throws -> Judgement? {
        let checklist = configuration.checklist
        let judged = groups.compactMap(checklist.group).filter { !$0.typedCriteria.isEmpty }
        guard !judged.isEmpty else { return nil }
        var judgement = Judgement()
        var missionRuns: [String: ProbeRun] = [:]
        for group in judged {
            let probes = Dictionary(checklist.probes(of: group.id).map { ($0.name, $0) }) { _, own in own }
            // A criterion is judged where all of its probes run: at the gate only those of `when gate`.
            let criteria = group.typedCriteria.filter { criterion in
                criterion.probes.allSatisfy { probes[$0]?.when.runs(at: kind) ?? false }
            }
            guard !criteria.isEmpty else { continue }
            var runs: [String: ProbeRun] = [:]
            for name in Set(criteria.flatMap(\.probes)).sorted() {
                guard let probe = probes[name] else { continue }
                let ownProbe = group.probes.contains { $0.name == name }
                if !ownProbe, let done = missionRuns[name] {
                    runs[name] = done
                    continue
                }
                let run = try await self.run(probe, in: directory, reports: reports)
                runs[name] = run
                if ownProbe { judgement.runs.append(run) } else { missionRuns[name] = run }
            }
            judgement.results += CriteriaCascade.evaluate(
                criteria,
                group: group.id,
                runs: runs,
                baselines: configuration.baselines
            )
        }
        judgement.runs += missionRuns.values.sorted { $0.name < $1.name }
        judgement.reason = CriteriaCascade.decide(judgement.results).reason
        return judgement
    }

    /// One run of a probe in `directory`: its result file removed first, then read (or its output) for figures.
    func run(_ probe: Probe, in directory: String, reports: String) async throws -> ProbeRun {
        let resultFile = probe.file.map { (directory as NSString).appendingPathComponent($0) }
        if let resultFile { try? FileManager.default.removeItem(atPath: resultFile) }
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        var environment = configuration.environment
        environment["FLOTILLA_MISSION"] = configuration.mission.rawValue
        environment["FLOTILLA_PROBE"] = probe.name
        var request = ProcessRequest.shell(probe.command, workingDirectory: directory, environment: environment)
        request.timeout = configuration.timeout
        request.captureLimit = ProbeRun.outputLimit
        request.confinement = configuration.sandbox.verify(
            checkout: directory,
            reports: reports,
            objects: configuration.objects,
            layout: layout,
            fixed: configuration.trustedFiles.keys.sorted().map { (directory as NSString).appendingPathComponent($0) }
        )
        let result = try await runner.run(request)
        let figures =
            resultFile.map { path in
                FileManager.default.regularFileContents(atPath: path, limit: ProbeRun.documentLimit)
                    .map { String(decoding: $0, as: UTF8.self) } ?? ""
            } ?? result.standardOutput
        let output = result.standardOutput + (result.standardError.isEmpty ? "" : "\n" + result.standardError)
        return ProbeRun(
            name: probe.name,
            exitCode: result.timedOut ? nil : result.termination.exitCode,
            timedOut: result.timedOut,
            document: ProbeRun.document(from: figures),
            output: String(output.suffix(ProbeRun.outputLimit)),
            durationMS: Int(result.duration.milliseconds)
        )
    }
}

/// A probe's run as a verification's report keeps it: its figures only when they are small.
struct ProbeSummary: Encodable {
    var name: String
    var exitCode: Int?
    var timedOut: Bool
    var durationMS: Int
    var document: JSONValue?
    /// The end of its output, for a person to see why it failed.
    var output: String

    init(_ run: ProbeRun) {
        name = run.name
        exitCode = run.exitCode
        timedOut = run.timedOut
        durationMS = run.durationMS
        let size = (try? JSONEncoder().encode(run.document))?.count ?? 0
        document = size <= 64 << 10 ? run.document : nil
        output = run.output.utf8Tail(2 << 10)
    }

    enum CodingKeys: String, CodingKey {
        case name, document, output
        case exitCode = "exit_code"
        case timedOut = "timed_out"
        case durationMS = "duration_ms"
    }
}

extension Gate {
    /// `value` as a JSON value, for a report.
    static func json(_ value: some Encodable) -> JSONValue {
        guard let data = try? JSONEncoder().encode(value) else { return .null }
        return (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
    }
}
