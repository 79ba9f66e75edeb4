import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// What the bubblewrap sandbox guarantees a session, seen from inside it by a scripted agent that reports what it
/// could do (`$OBS`, in the test's scratch directory, the one path it may write besides its checkout).
@Suite(
    "Sandbox: what a session can see and reach",
    .tags(.large),
    .enabled(if: SandboxAvailability.bubblewrap, "bubblewrap works here (.ci/run installs it)"),
    .timeLimit(.minutes(10))
)
struct SandboxTests {
    static let checklist = "# Sandbox\n\n## A\n- [ ] a.txt says a ok\n"

    /// Runs a one-group mission whose agent runs `script` after `OBS=…`, `REPO=…`; returns what it reported.
    func session(
        _ script: String,
        fixture: MissionFixture,
        arguments: [String] = [],
        environment: [String: String] = [:]
    ) async throws -> (outcome: FlotillaBinary.Outcome, observations: String) {
        let observations = fixture.scratch.file("observations")
        let agent = try fixture.scratch.write(
            "agent.sh",
            "#!/bin/sh\nOBS=\(observations)\nREPO=$(cd ../../../.. && pwd)\n" + script + "\necho 'a ok' > a.txt\n",
            executable: true
        )
        let outcome = try await fixture.run(
            ["--agent-command", "sh \(agent)", "--sandbox", "bwrap"] + arguments,
            environment: environment
        )
        return (outcome, (try? String(contentsOfFile: observations, encoding: .utf8)) ?? "")
    }

    @Test func aSessionCannotReadTheHomeDirectoryItCameFrom() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a"])
        defer { fixture.remove() }
        let home = try TemporaryDirectory(prefix: "flotilla-home")
        defer { home.remove() }
        let secret = "secret-\(UUID().uuidString)"
        try home.write("secret.txt", secret + "\n")
        try home.write(".ssh/id_ed25519", secret + "\n")
        let (outcome, observations) = try await session(
            """
            echo "home: $HOME" >> $OBS
            cat "$HOME/secret.txt" "$HOME/.ssh/id_ed25519" >> $OBS 2>&1
            ls -A "$HOME" >> $OBS 2>&1
            echo "listed" >> $OBS
            """,
            fixture: fixture,
            environment: ["HOME": home.path]
        )
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        #expect(observations.contains("home: \(home.path)") && observations.contains("listed"), "\(observations)")
        #expect(!observations.contains(secret), "the session read a file of the real home: \(observations)")
    }

    @Test func aSessionCannotWriteTheRepositorysGitOrSeeFlotillasState() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a"])
        defer { fixture.remove() }
        let (outcome, observations) = try await session(
            """
            for f in "$REPO/.git/PWNED" "$REPO/.git/refs/heads/PWNED" "$REPO/.flotilla/PWNED" "$REPO/PWNED"; do
                touch "$f" 2>/dev/null && echo "wrote $f" >> $OBS
            done
            git --git-dir="$REPO/.git" update-ref refs/heads/main HEAD 2>/dev/null && echo "moved main" >> $OBS
            cat "$REPO/.flotilla/ledger.sqlite" > /dev/null 2>&1 && echo "read the ledger" >> $OBS
            ls -aR "$REPO/.flotilla" >> $OBS 2>&1
            echo "tried" >> $OBS
            """,
            fixture: fixture
        )
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        #expect(observations.contains("tried"))
        // Of .flotilla/ it sees its own checkout and prompt, nothing else, and it cannot write there.
        for word in [
            "wrote", "moved", "read the ledger", "ledger.sqlite", "events.jsonl", "mission.log", "gate-", "staging",
            "indexes",
        ] {
            #expect(!observations.contains(word), "the session could do it: \(observations)")
        }
        for path in [".git/PWNED", ".git/refs/heads/PWNED", ".flotilla/PWNED", "PWNED"] {
            #expect(!fixture.repository.directory.exists(path), "\(path) exists")
        }
        _ = try await fixture.audit()
    }

    @Test func aSessionsRepositoryReadsOnlyObjectsItsCommitReaches() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a"])
        defer { fixture.remove() }
        // Before the mission: a `.env` staged once and taken back (a dangling blob), and a branch of other work.
        let repository = fixture.repository
        try repository.write(".env", "KEY=dangling-\(UUID().uuidString)\n")
        let dangling = try String(contentsOfFile: repository.directory.file(".env"), encoding: .utf8)
        _ = try await repository.git("add", "-f", ".env")
        _ = try await repository.git("rm", "--cached", "-q", ".env")
        try FileManager.default.removeItem(atPath: repository.directory.file(".env"))
        let branch = try await repository.git("rev-parse", "--abbrev-ref", "HEAD")
        _ = try await repository.git("checkout", "-qb", "private")
        let unrelated = "private-\(UUID().uuidString)"
        try repository.write("p.txt", unrelated + "\n")
        _ = try await repository.commitAll("private work")
        _ = try await repository.git("checkout", "-q", branch)
        let (outcome, observations) = try await session(
            """
            git cat-file --batch-all-objects --batch-check='%(objecttype) %(objectname)' | while read type id; do
                [ "$type" = blob ] && git cat-file -p "$id" >> $OBS 2>&1
            done
            git log --format=%s >> $OBS 2>&1
            for a in .git/objects/info/alternates; do cat "$a" >> $OBS; done
            echo "listed" >> $OBS
            """,
            fixture: fixture
        )
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        // It read the objects of its commit and its history, and nothing else.
        #expect(observations.contains("listed") && observations.contains("# Sandbox"), "\(observations)")
        #expect(!observations.contains(dangling), "the session read the dangling blob of .env")
        #expect(!observations.contains(unrelated), "the session read another branch's work")
        _ = try await fixture.audit()
    }

    /// Posts to two loopback servers, directly and through the proxy `HTTP_PROXY` names, and reports each outcome.
    static let probe = """
        /usr/bin/python3 - "$@" >> $OBS 2>&1 <<'PY'
        import os, sys, urllib.request
        proxy = os.environ.get("HTTP_PROXY", "http://127.0.0.1:1")
        # Through the proxy means through it, loopback included: no exceptions.
        os.environ["no_proxy"] = os.environ["NO_PROXY"] = ""
        for port in sys.argv[1:]:
            for how in ("direct", "proxy"):
                proxies = {} if how == "direct" else {"http": proxy}
                opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies))
                request = urllib.request.Request("http://127.0.0.1:%s/v1/chat/completions" % port, data=b"{}")
                try:
                    # A backstop, not a wait: a loaded machine can starve the proxy for seconds.
                    opener.open(request, timeout=60).read()
                    print("port", port, how, "reached")
                except Exception as error:
                    print("port", port, how, "refused:", error)
        PY
        """

    @Test func theAllowlistReachesItsHostAndNotASecondOne() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a"])
        defer { fixture.remove() }
        let reply = ScriptedModelServer.Reply.chat("hi")
        try await ScriptedModelServer.serving([reply, reply]) { allowed, allowedPort in
            try await ScriptedModelServer.serving([reply]) { other, otherPort in
                let (outcome, observations) = try await session(
                    "set -- \(allowedPort) \(otherPort)\n" + Self.probe,
                    fixture: fixture,
                    arguments: ["--network", "allowlist", "--allow-host", "127.0.0.1:\(allowedPort)"]
                )
                #expect(outcome.exitCode == 0, "\(outcome.standardError)")
                #expect(observations.contains("port \(allowedPort) direct reached"), "\(observations)")
                #expect(observations.contains("port \(allowedPort) proxy reached"), "\(observations)")
                #expect(observations.contains("port \(otherPort) direct refused"), "\(observations)")
                #expect(observations.contains("port \(otherPort) proxy refused"), "\(observations)")
                #expect(observations.contains("403"), "the proxy should say no: \(observations)")
                #expect(await allowed.requests.count == 2)
                #expect(await other.requests.isEmpty, "the second server was reached")
                // The refusal is in the session's transcript, for people.
                let audit = try await fixture.audit()
                let transcript = try String(
                    contentsOfFile: audit.missionDirectory + "/agent_outputs/a-1.log",
                    encoding: .utf8
                )
                #expect(transcript.contains("the network policy refused connections to 127.0.0.1:\(otherPort)"))
                #expect(try await audit.attempts().first?.sandbox?.hasPrefix("bwrap, network allowlist") == true)
            }
        }
    }

    @Test func noNetworkReachesNothing() async throws {
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a"])
        defer { fixture.remove() }
        try await ScriptedModelServer.serving([]) { server, port in
            let (outcome, observations) = try await session(
                "set -- \(port)\n" + Self.probe,
                fixture: fixture,
                arguments: ["--network", "none"]
            )
            #expect(outcome.exitCode == 0, "\(outcome.standardError)")
            #expect(observations.contains("port \(port) direct refused"), "\(observations)")
            #expect(observations.contains("port \(port) proxy refused"), "\(observations)")
            #expect(await server.requests.isEmpty)
        }
    }

    @Test func theVerifyCommandRunsSandboxedToo() async throws {
        // The gate runs code agents wrote: it writes only its own checkout and has no network by default.
        let fixture = try await MissionFixture(
            checklist: Self.checklist,
            groups: ["a"],
            extraFiles: [
                "verify.sh": """
                #!/bin/sh
                touch "$(cd ../../../.. && pwd)/.git/PWNED" 2>/dev/null && echo "gate wrote .git"
                touch ../PWNED 2>/dev/null && echo "gate wrote beside its checkout"
                ls ../agent-1 >/dev/null 2>&1 && echo "gate saw the agent's checkout"
                grep -qx 'a ok' a.txt

                """
            ]
        )
        defer { fixture.remove() }
        let (outcome, _) = try await session("", fixture: fixture)
        #expect(outcome.exitCode == 0, "\(outcome.standardError)")
        let audit = try await fixture.audit()
        let gate = try String(contentsOfFile: audit.missionDirectory + "/agent_outputs/a-1.gate.log", encoding: .utf8)
        #expect(!gate.contains("gate wrote") && !gate.contains("gate saw"), "\(gate)")
        #expect(!fixture.repository.directory.exists(".git/PWNED"))
    }
}
