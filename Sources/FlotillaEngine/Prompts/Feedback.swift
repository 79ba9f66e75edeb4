import FlotillaCore
import Foundation

/// The texts that tell the next attempt what went wrong with this one.
enum Feedback {
    static let tailForPrompt = 3000

    static func gateFailed(_ verification: Verification, agentExit: Termination?) -> String {
        var text =
            verification.timedOut
            ? "The gate timed out." : "The gate failed with exit status \(verification.exitCode ?? -1)."
        if let agentExit, !agentExit.isSuccess { text += " (The agent session itself ended with \(agentExit).)" }
        text += " Command: `\(verification.command)`. The end of its output:\n\n" + fenced(verification.outputTail)
        return text
    }

    /// One line saying why a verification failed: its exit status and the last lines of its output.
    static func headline(_ verification: Verification) -> String {
        if let reason = verification.criterionFailure { return reason }
        let status = verification.timedOut ? "timed out" : "exit \(verification.exitCode.map(String.init) ?? "?")"
        let lines = verification.outputTail.split(separator: "\n").map { String($0).trimmingWhitespace() }
            .filter { !$0.isEmpty && !$0.hasPrefix("[flotilla:") }
        let last = lines.suffix(2).joined(separator: " / ")
        return last.isEmpty ? status : "\(status): " + String(last.prefix(160))
    }

    static func rejected(_ list: String) -> String {
        "Your change was rejected before it was checked: it modified protected paths: \(list). "
            + "Protected files are the gate and the plan; leave them exactly as they are and change the code instead."
    }

    static func disputed(_ reason: String) -> String {
        "You said a criterion cannot be met as written: \(reason). A person has read it and released the group again: "
            + "they changed the checklist, or think it can be met. Do the work as the checklist now says."
    }

    static func tooLarge(_ reason: String) -> String {
        "Your change was rejected before it was checked: it \(reason). Add source code, not generated data, "
            + "dependencies or large files; leave build output out of the repository."
    }

    static func grader(_ reaches: [GraderGuard.Reach]) -> String {
        "Your change was rejected before it was checked: it reaches into what grades it rather than doing the work: "
            + reaches.map(\.description).joined(separator: "; ") + ". The verify command and the test runner run "
            + "as the project has them; make the code pass the tests as they are, without test-runner configuration, "
            + "start-up hooks or code that ends the run early. If a criterion cannot be met, say so in your answer."
    }

    static func testsReverted(_ paths: [String]) -> String {
        "Your edits to existing tests were taken back before the check (existing tests are protected): "
            + paths.joined(separator: ", ") + ". Make the code pass the tests as they are; add new test files for "
            + "new behaviour."
    }

    static func timedOut(limit: String) -> String {
        "The session was stopped when it reached the \(limit) time limit, before it finished; its changes were "
            + "discarded. Aim for a smaller, direct change and avoid commands that wait or run forever."
    }

    static func agentFailed(_ failure: String) -> String {
        "The agent session failed before the gate could judge it: \(failure)."
    }

    static func conflict(files: [String], messages: String) -> String {
        var text =
            "Your change passed its check but conflicted with work that landed meanwhile, in: "
            + files.joined(separator: ", ") + ". This attempt starts from the new target head, which includes "
            + "that work: make your change again on top of it."
        if !messages.isEmpty { text += "\n\n" + fenced(messages) }
        return text
    }

    static func regression(_ verification: Verification) -> String {
        "Your change passed its own check, but merged with the work already landed it broke verified groups: the "
            + "regression verify of the merged commit failed with exit status \(verification.exitCode ?? -1) "
            + "(\(verification.landedGroupsChecked) landed groups checked with yours). Keep those groups working. "
            + "The end of its output:\n\n" + fenced(verification.outputTail)
    }

    /// A fixup's brief: its checkout is the merged combination that failed; both changes and the failure.
    static func fixup(_ verification: Verification, own: String, landed: String) -> String {
        "Fixup: your change passed its own gate, but merged with the work that landed after it started, the "
            + "regression verify of the merged commit failed with exit status \(verification.exitCode ?? -1). This "
            + "attempt starts from that merged commit: both changes are already in your checkout. Make the combination "
            + "pass, keeping every group's criteria.\n\nYour earlier change:\n\n" + diffBlock(own)
            + "\n\nWhat landed after it started:\n\n" + diffBlock(landed)
            + "\n\nThe end of the failed verify's output:\n\n" + fenced(verification.outputTail)
    }

    private static func diffBlock(_ diff: String) -> String {
        let shown = diff.count > 6000 ? String(diff.prefix(6000)) + "\n… (cut at 6000 characters)" : diff
        return "```diff\n" + (shown.isEmpty ? "(no changes)" : shown.trimmingBlankLines()) + "\n```"
    }

    static func rejected(_ decision: ApprovalDecision) -> String {
        "Your change passed the gate, but the human reviewing it before it landed rejected it"
            + (decision.by == "timeout" ? " (no answer came in time)" : "") + ". Their reason:\n\n"
            + (decision.reason.map { $0.isEmpty ? "(none given)" : $0 } ?? "(none given)")
            + "\n\nDo what they ask; the gate must still pass."
    }

    static func interrupted(_ reason: String) -> String {
        "This attempt was interrupted and discarded (\(reason)); it says nothing about your approach."
    }

    private static func fenced(_ output: String) -> String {
        let tail = output.utf8Tail(tailForPrompt).trimmingBlankLines()
        return "```\n" + (tail.isEmpty ? "(no output)" : tail) + "\n```"
    }
}

extension Feedback {
    /// Why attempts end when the mission stops, as their conclusions say it.
    static func stopped(_ reason: StopReason) -> String { "the mission stopped (\(reason.rawValue))" }

    /// What the next attempt of a group hears about a candidate that passed its gate and lost the ranking.
    static func outranked(_ lost: String) -> String {
        "Your attempt passed the gate, but another candidate of the same round ranked higher (\(lost)) and landed "
            + "instead."
    }
}
