import FlotillaCore
import Foundation

/// Where Flotilla keeps its state for one repository: everything lives under `<repository>/.flotilla/`.
package struct MissionLayout: Sendable, Equatable {
    package let repository: String

    package init(repository: String) {
        self.repository = repository
    }

    package var stateDirectory: String { join(repository, ".flotilla") }
    package var ledgerPath: String { join(stateDirectory, "ledger.sqlite") }

    package func missionDirectory(_ id: MissionID) -> String { join(stateDirectory, "missions", id.rawValue) }
    package func missionLog(_ id: MissionID) -> String { join(missionDirectory(id), "mission.log") }
    package func eventsFile(_ id: MissionID) -> String { join(missionDirectory(id), "events.jsonl") }
    package func agentOutputs(_ id: MissionID) -> String { join(missionDirectory(id), "agent_outputs") }
    /// Children of the running process, one file per pid, for ending them after a crash.
    package func processesDirectory(_ id: MissionID) -> String { join(missionDirectory(id), "processes") }
    /// What a mission running in the background writes to its stdout and stderr.
    package func backgroundLog(_ id: MissionID) -> String { join(missionDirectory(id), "background.log") }
    package func checklistCopy(_ id: MissionID) -> String { join(missionDirectory(id), "ACCEPTANCE.md") }

    package func transcript(_ id: MissionID, _ key: AttemptKey) -> String { join(agentOutputs(id), "\(key.slug).log") }
    package func prompt(_ id: MissionID, _ key: AttemptKey) -> String {
        join(agentOutputs(id), "\(key.slug).prompt.md")
    }
    package func patch(_ id: MissionID, _ key: AttemptKey) -> String { join(agentOutputs(id), "\(key.slug).patch") }
    /// An attempt's pipeline files: `pipeline.json` and `steps/NN_STEP[.LOOP]/` (``PipelineRun``).
    package func pipelineDirectory(_ id: MissionID, _ key: AttemptKey) -> String { join(agentOutputs(id), key.slug) }
    /// Where an attempt's tool files (aider's histories…) are kept instead of its checkout.
    package func toolFiles(_ id: MissionID, _ key: AttemptKey) -> String {
        join(agentOutputs(id), "\(key.slug).tool-files")
    }
    package func gateLog(_ id: MissionID, _ key: AttemptKey, _ kind: VerificationKind) -> String {
        join(agentOutputs(id), "\(key.slug).\(kind.rawValue).log")
    }
    package func finalVerifyLog(_ id: MissionID) -> String { join(agentOutputs(id), "final-verify.log") }
    /// The verify command's run at the base commit, against which its tests are judged.
    package func baselineLog(_ id: MissionID) -> String { join(agentOutputs(id), "baseline-verify.log") }
    /// The output of the last `flotilla check`.
    package func checkLog(_ id: MissionID) -> String { join(agentOutputs(id), "check-verify.log") }
    /// The pytest plugin through which Flotilla records a run's tests (read-only to the runs).
    package func evidencePlugin(_ id: MissionID) -> String { join(missionDirectory(id), "evidence-plugin") }
    /// Where one verify run may write its report: a directory of its own (the one place outside its checkout that a
    /// sandboxed verify may write), holding `report.json`.
    package func report(_ id: MissionID, _ name: String) -> String {
        join(missionDirectory(id), "reports", name, "report.json")
    }

    /// The mission's checkouts: plain directories, none of them a git worktree of the repository.
    package func worktrees(_ id: MissionID) -> String { join(stateDirectory, "worktrees", id.rawValue) }
    /// The checkout of one agent slot; each attempt on the slot gets it reset to its start commit.
    package func slotWorktree(_ id: MissionID, _ slot: Int) -> String { join(worktrees(id), "agent-\(slot)") }
    /// Where the gate judges an attempt of `slot`: a clean checkout of its commit, which no agent can reach.
    package func gateWorktree(_ id: MissionID, _ slot: Int) -> String { join(worktrees(id), "gate-\(slot)") }
    /// Where one `flotilla check` verifies and measures a commit (its checkout and index): apart from the mission's
    /// checkouts, which its process removes when it ends, and from any other check.
    package func checkDirectory(_ id: MissionID, _ token: String) -> String {
        join(stateDirectory, "checks", "\(id)-\(token)")
    }
    /// Where landings are regression-verified and the final verify runs.
    package func stagingWorktree(_ id: MissionID) -> String { join(worktrees(id), "staging") }
    /// Flotilla's own index of one of the mission's checkouts, outside every checkout.
    package func index(_ id: MissionID, of checkout: String) -> String {
        join(missionDirectory(id), "indexes", (checkout as NSString).lastPathComponent)
    }
    package func indexes(_ id: MissionID) -> String { join(missionDirectory(id), "indexes") }

    /// The branch of one attempt: `flotilla/attempts/<mission>/<group>-<attempt>`.
    ///
    /// Not `flotilla/<mission>/…`: git cannot hold a branch `flotilla/<mission>` (the default target) and branches
    /// below it at the same time, since a ref cannot be both a file and a directory.
    package static func attemptBranch(_ id: MissionID, _ key: AttemptKey) -> String {
        "flotilla/attempts/\(id)/\(key.slug)"
    }
    /// The default target branch: `flotilla/<mission>`.
    package static func defaultTargetBranch(_ id: MissionID) -> String { "flotilla/\(id)" }

    private func join(_ parts: String...) -> String {
        parts.dropFirst().reduce(parts[0]) { ($0 as NSString).appendingPathComponent($1) }
    }
}
