import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Secrets never come back out", .tags(.large), .timeLimit(.minutes(10)))
struct SecretsTests {
    @Test func aKeyAnAgentAndTheGatePrintIsInNoFileTheLedgerOrTheOutput() async throws {
        let secret = "sk-test-5f0c2a9e77b14d3c"
        let fixture = try await MissionFixture(
            checklist: "# One\n\n## A\n- [ ] a\n",
            groups: ["a"],
            extraFiles: [
                // The gate prints the key too, and fails once so its output reaches the next prompt and the ledger.
                "leaky-verify.sh": "#!/bin/sh\necho \"verify sees $OPENAI_API_KEY\"\nexec ./verify.sh\n"
            ]
        )
        defer { fixture.remove() }
        _ = try await fixture.repository.git("update-index", "--chmod=+x", "leaky-verify.sh")
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755],
            ofItemAtPath: fixture.repository.path + "/leaky-verify.sh"
        )
        _ = try await fixture.repository.commitAll("leaky verify")
        let agent = try fixture.scratch.write(
            "agent.sh",
            """
            #!/bin/sh
            echo "my key is $OPENAI_API_KEY"
            env | grep OPENAI >&2
            printf '%s' "$OPENAI_API_KEY" | cut -c1-10
            if [ "$FLOTILLA_ATTEMPT" = 2 ]; then echo "a ok" > a.txt; fi
            echo "{\\"cost_usd\\": 0.01, \\"message\\": \\"done with $OPENAI_API_KEY\\"}"

            """,
            executable: true
        )
        let run = try await FlotillaBinary.run(
            [
                "run", "--sandbox-write", fixture.scratch.path, "--verify", "./leaky-verify.sh", "--agent-command",
                "sh \(agent)", "--pass-env",
                "OPENAI_API_KEY",
                "--output", "json",
            ],
            in: fixture.repository.path,
            environment: ["OPENAI_API_KEY": secret]
        )
        #expect(run.exitCode == 0, "\(run.standardError)")
        #expect(!run.standardOutput.contains(secret) && !run.standardError.contains(secret))

        // Every file Flotilla wrote: transcripts, prompts, gate logs, events, mission log, and the ledger itself.
        var checked = 0
        let root = fixture.repository.path + "/.flotilla"
        let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        for file in files {
            guard let data = FileManager.default.contents(atPath: root + "/" + file) else { continue }
            checked += 1
            #expect(data.range(of: Data(secret.utf8)) == nil, "\(file) holds the key")
        }
        #expect(checked > 5)
        // The redaction marker shows the key was there and was removed.
        let transcript = try String(
            contentsOfFile: root + "/missions/\(try await MissionAudit(fixture.repository).id)/agent_outputs/a-1.log",
            encoding: .utf8
        )
        #expect(transcript.contains("my key is [redacted]"), "\(transcript)")
    }
}
