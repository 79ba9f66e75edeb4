import FlotillaCore
import FlotillaSystem
import FlotillaTestSupport
import Foundation
import Testing

/// kill -9 at twenty points of a mission, then `resume`: every mission still completes, the target branch holds
/// only verified commits, no group lands twice, and nothing is left behind.
@Suite("Crash recovery: kill -9 and resume", .tags(.large), .timeLimit(.minutes(10)))
struct CrashRecoveryTests {
    /// Six groups for three agents: three independent, `d` after `a` and `b`, `e` after `c` (its first attempt fails
    /// its gate), `f` after `d` and `e`.
    static let checklist = """
        # Six groups
        ## A
        - [ ] a
        ## B
        - [ ] b
        ## C
        - [ ] c
        ## D
        Depends on: a, b
        - [ ] d
        ## E
        Depends on: c
        - [ ] e
        ## F
        Depends on: d, e
        - [ ] f
        """

    /// Where each run is killed: `FLOTILLA_CRASH_AT` values, the first for `run`, the next for the resumes.
    static let points: [[String]] = [
        ["checkpoint:mission.started#1"],
        ["checkpoint:attempt.recorded#2"],
        ["process:agent.sh#1"],
        ["process:agent.sh#5"],
        ["checkpoint:agent.finished#1"],
        ["checkpoint:attempt.committed#3"],
        ["process:[FLOTILLA_GROUPS=a]#1"],
        ["checkpoint:gate.recorded#4"],
        ["checkpoint:merge.started#1"],
        ["checkpoint:merge.tree-written#2"],
        ["process:merge-tree#1"],
        ["checkpoint:merge.verified#1"],
        ["checkpoint:merge.ref-updated#1"],
        ["checkpoint:merge.landed#2"],
        ["checkpoint:merge.verified#3"],
        ["checkpoint:attempt.concluded#1"],
        ["process:[FLOTILLA_GROUPS=]#1"],
        ["checkpoint:final.verified#1"],
        ["checkpoint:mission.finished#1"],
        ["checkpoint:merge.verified#2", "checkpoint:recovery.started#1"],
    ]

    @Test(arguments: points.indices)
    func killedAtAnyPointAMissionResumesToCompletion(index: Int) async throws {
        let crashes = Self.points[index]
        let fixture = try await MissionFixture(checklist: Self.checklist, groups: ["a", "b", "c", "d", "e", "f"])
        defer { fixture.remove() }
        let agent = try fixture.scratch.write(
            "agent.sh",
            """
            #!/bin/sh
            if [ "$FLOTILLA_GROUP" = e ] && [ "$FLOTILLA_ATTEMPT" = 1 ]; then
                echo "e not yet" > e.txt
            else
                echo "$FLOTILLA_GROUP ok" > "$FLOTILLA_GROUP.txt"
            fi
            sleep 0.3

            """,
            executable: true
        )
        let repository = fixture.repository.path
        let first = try await FlotillaBinary.run(
            [
                "run", "--sandbox-write", fixture.scratch.path, "--verify", "./verify.sh", "--agent-command",
                "sh \(agent)", "--agents", "3",
            ],
            in: repository,
            environment: ["FLOTILLA_CRASH_AT": crashes[0]]
        )
        #expect(
            first.signal == SIGKILL,
            "the run should die at \(crashes[0]): \(first.standardOutput)\(first.standardError)"
        )
        let audit = try await MissionAudit(fixture.repository)
        let id = audit.id.rawValue

        // Resume, killed again wherever the list says, until a resume runs to the end.
        for crash in crashes.dropFirst() {
            let resumed = try await FlotillaBinary.run(
                ["resume", id],
                in: repository,
                environment: ["FLOTILLA_CRASH_AT": crash]
            )
            #expect(resumed.signal == SIGKILL, "the resume should die at \(crash)")
        }
        let last = try await FlotillaBinary.run(["resume", id], in: repository)
        #expect(last.exitCode == 0, "resume after \(crashes): \(last.standardOutput)\(last.standardError)")

        let after = try await fixture.audit()
        #expect(after.mission.state == .completed)
        // No group landed twice: one landed attempt per group, and each group in the trailers of one commit only.
        let landed = try await after.attempts().filter { $0.outcome == .landed }.map(\.key.group)
        #expect(landed.sorted() == ["a", "b", "c", "d", "e", "f"])
        let head = try #require(await after.targetHead())
        let log = try await fixture.repository.git("log", "--format=%B", "\(after.mission.spec.baseCommit)..\(head)")
        let trailers = log.split(separator: "\n").filter { $0.hasPrefix("Flotilla-Group: ") }.map { $0.dropFirst(16) }
        #expect(trailers.sorted() == ["a", "b", "c", "d", "e", "f"])
        for group in ["a", "b", "c", "d", "e", "f"] {
            #expect(await fixture.repository.show(head, "\(group).txt") == "\(group) ok")
        }
        // Nothing left running: every agent process, including those a crash orphaned, has ended.
        #expect(await MissionProcesses.waitUntilNoneRuns(after.id) == [], "agents outlived the mission")
    }

    @Test func aMissionRunningElsewhereIsNotResumedTwice() async throws {
        let fixture = try await MissionFixture(checklist: "# T\n## A\n- [ ] a\n", groups: ["a"])
        defer { fixture.remove() }
        let ready = try FIFOSignal(in: fixture.scratch)
        let agent = try fixture.scratch.write(
            "agent.sh",
            "#!/bin/sh\necho started > \(ready.path)\nsleep 600\n",
            executable: true
        )
        let running = try RunningFlotilla(
            [
                "run", "--sandbox-write", fixture.scratch.path, "--verify", "./verify.sh", "--agent-command",
                "sh \(agent)",
            ],
            in: fixture.repository.path
        )
        #expect(await ready.firstLine() == "started")
        let id = try await MissionAudit(fixture.repository).id.rawValue
        let second = try await FlotillaBinary.run(["resume", id], in: fixture.repository.path)
        #expect(second.exitCode == 2)
        #expect(second.standardError.contains("is running in process \(running.processIdentifier)"))
        running.send(SIGTERM)
        let outcome = await running.wait(timeout: .seconds(300))
        #expect(outcome.exitCode == 4)
    }
}
