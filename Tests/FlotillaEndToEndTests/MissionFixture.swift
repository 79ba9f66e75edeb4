import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// A repository with a checklist and a gate, plus a scratch directory outside it for scenarios and agent scripts.
struct MissionFixture {
    let repository: FixtureRepository
    let scratch: TemporaryDirectory

    /// The gate of every fixture: group `g` passes when `g.txt` holds the line `g ok`.
    static let verifyScript = """
        #!/bin/sh
        all=$(cat groups.list)
        status=0
        for g in $(echo "${FLOTILLA_GROUPS:-$all}" | tr ',' ' '); do
            if grep -qx "$g ok" "$g.txt" 2>/dev/null; then
                echo "ok $g"
            else
                echo "FAIL $g: $g.txt should say '$g ok', found '$(cat "$g.txt" 2>/dev/null)'"
                status=1
            fi
        done
        exit $status

        """

    init(checklist: String, groups: [String], extraFiles: [String: String] = [:]) async throws {
        var files = [
            "verify.sh": Self.verifyScript, "groups.list": groups.joined(separator: " ") + "\n",
            "ACCEPTANCE.md": checklist,
        ]
        files.merge(extraFiles) { $1 }
        repository = try await FixtureRepository(files: files, executables: ["verify.sh"])
        scratch = try TemporaryDirectory(prefix: "flotilla-scratch")
    }

    func remove() {
        repository.directory.remove()
        scratch.remove()
    }

    /// Writes a scenario file and returns its path.
    func scenario(_ json: String) throws -> String {
        try scratch.write("scenario-\(UUID().uuidString.prefix(6)).json", json)
    }

    func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        timeout: Duration = .seconds(300)
    ) async throws -> FlotillaBinary.Outcome {
        let outcome = try await FlotillaBinary.run(
            // The scratch directory is the test's observation post: scripted agents and verify scripts write there.
            ["run", "--verify", "./verify.sh", "--sandbox-write", scratch.path] + arguments,
            in: repository.path,
            environment: environment,
            timeout: timeout
        )
        #expect(!outcome.timedOut, "flotilla run hung: \(outcome.standardOutput)\n\(outcome.standardError)")
        return outcome
    }

    /// Runs the mission until Flotilla is killed at `checkpoint` (`FLOTILLA_CRASH_AT`), then resumes it; returns the
    /// resumed run's outcome.
    func crashThenResume(
        _ arguments: [String],
        at checkpoint: String,
        environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> FlotillaBinary.Outcome {
        let first = try await run(
            arguments,
            environment: environment.merging(["FLOTILLA_CRASH_AT": "checkpoint:\(checkpoint)"]) { $1 }
        )
        #expect(
            first.signal == SIGKILL,
            "\(first.standardOutput)\(first.standardError)",
            sourceLocation: sourceLocation
        )
        let id = try await MissionAudit(repository).id.rawValue
        return try await FlotillaBinary.run(["resume", id], in: repository.path, environment: environment)
    }

    func simulate(_ scenario: String, _ arguments: [String] = []) async throws -> FlotillaBinary.Outcome {
        try await run(["--backend", "simulate", "--scenario", try self.scenario(scenario)] + arguments)
    }

    /// The guarantees every mission keeps, checked after each test: main stays green, events agree, nothing left over.
    func audit(sourceLocation: SourceLocation = #_sourceLocation) async throws -> MissionAudit {
        let audit = try await MissionAudit(repository)
        #expect(
            try await audit.unverifiedTargetCommits() == [],
            "unverified commits on the target branch",
            sourceLocation: sourceLocation
        )
        let ledgerEvents = try await audit.events()
        let fileEvents = try audit.eventsFile()
        #expect(
            fileEvents.map(\.id) == ledgerEvents.map(\.id),
            "events.jsonl differs from the ledger",
            sourceLocation: sourceLocation
        )
        #expect(fileEvents.map(\.kind) == ledgerEvents.map(\.kind), sourceLocation: sourceLocation)
        if audit.mission.state.isTerminal {
            #expect(
                try await audit.leftovers() == [],
                "worktrees or attempt branches left behind",
                sourceLocation: sourceLocation
            )
        }
        let log = try String(contentsOfFile: audit.missionDirectory + "/mission.log", encoding: .utf8)
        #expect(log.contains("mission \(audit.id) created"), sourceLocation: sourceLocation)
        return audit
    }
}

extension Array where Element == MissionEvent {
    func firstIndex(_ kind: EventKind, group: String, attempt: Int? = nil) -> Int? {
        firstIndex { $0.kind == kind && $0.group == group && (attempt == nil || $0.attempt == attempt) }
    }
}
