/// What an earlier attempt on the same group teaches the next one.
package struct AttemptFeedback: Sendable, Equatable {
    package var attempt: Int
    package var outcome: AttemptOutcome
    package var text: String

    package init(attempt: Int, outcome: AttemptOutcome, text: String) {
        self.attempt = attempt
        self.outcome = outcome
        self.text = text
    }
}

/// Everything the prompt of one attempt is built from.
package struct AttemptBrief: Sendable, Equatable {
    package var mission: MissionID
    package var goal: String
    package var group: ChecklistGroup
    package var attempt: Int
    /// Groups already landed that the prompt names, as (id, title): the group's dependencies and recent ones.
    package var doneGroups: [(id: String, title: String)]
    /// Landed groups the prompt does not name.
    package var moreDoneGroups: Int
    package var protectedPatterns: [String]
    /// The command the gate runs and the groups it is told to check.
    package var checkCommand: String
    package var checkGroups: String
    /// Earlier attempts on this group, oldest first.
    package var feedback: [AttemptFeedback]
    package var escalation: Escalation
    /// Edits to existing tests are taken back before the gate (unless the group's `Allow:` line permits them).
    package var testsProtected: Bool
    /// Best of N: which candidate this is, and the approach it is asked to take.
    package var approach: String?

    package init(
        mission: MissionID,
        goal: String,
        group: ChecklistGroup,
        attempt: Int,
        doneGroups: [(id: String, title: String)],
        moreDoneGroups: Int = 0,
        protectedPatterns: [String],
        checkCommand: String,
        checkGroups: String,
        feedback: [AttemptFeedback],
        escalation: Escalation,
        testsProtected: Bool = false
    ) {
        self.testsProtected = testsProtected
        self.mission = mission
        self.goal = goal
        self.group = group
        self.attempt = attempt
        self.doneGroups = doneGroups
        self.moreDoneGroups = moreDoneGroups
        self.protectedPatterns = protectedPatterns
        self.checkCommand = checkCommand
        self.checkGroups = checkGroups
        self.feedback = feedback
        self.escalation = escalation
    }

    package static func == (lhs: AttemptBrief, rhs: AttemptBrief) -> Bool {
        lhs.mission == rhs.mission && lhs.goal == rhs.goal && lhs.group == rhs.group && lhs.attempt == rhs.attempt
            && lhs.doneGroups.map(\.id) == rhs.doneGroups.map(\.id) && lhs.moreDoneGroups == rhs.moreDoneGroups
            && lhs.protectedPatterns == rhs.protectedPatterns
            && lhs.checkCommand == rhs.checkCommand && lhs.feedback == rhs.feedback && lhs.escalation == rhs.escalation
            && lhs.testsProtected == rhs.testsProtected && lhs.approach == rhs.approach
    }
}

/// Renders the prompt an agent receives for one attempt.
package enum AttemptPrompt {
    /// How many earlier attempts the prompt reports in full; older ones are summarised in one line each.
    package static let detailedFeedbackCount = 2

    /// The prompt's last line.
    package static func callToAct(_ group: String) -> String {
        "Make the change now, in the files, so that every criterion of `\(group)` holds. Do not only acknowledge "
            + "these instructions: a session that changes nothing fails its check."
    }

    package static func render(_ brief: AttemptBrief) -> String {
        var out: [String] = []
        out.append("# Mission \(brief.mission): \(brief.goal)")
        out.append("")
        out.append("You are one of several coding agents working on this repository in parallel. This is a fresh")
        out.append("session for attempt \(brief.attempt) on one group of the acceptance checklist. Make the group's")
        out.append("criteria true by editing files in the current directory, then stop.")
        out.append("")
        out.append("## Your group: `\(brief.group.id)` — \(brief.group.title)")
        out.append("")
        if !brief.group.notes.isEmpty {
            out.append(brief.group.notes)
            out.append("")
        }
        out.append("Acceptance criteria:")
        for criterion in brief.group.criteria { out.append("- [ ] \(criterion)") }
        out.append("")
        if let approach = brief.approach {
            out.append(approach)
            out.append("")
        }
        out.append("## Already done")
        out.append("")
        if brief.doneGroups.isEmpty {
            out.append("Nothing has landed yet.")
        } else {
            out.append("These groups have landed and are verified on every change; do not break them:")
            for group in brief.doneGroups { out.append("- `\(group.id)` — \(group.title)") }
            if brief.moreDoneGroups > 0 { out.append("- and \(brief.moreDoneGroups) more") }
        }
        out.append("")
        out.append("## Rules")
        out.append("")
        out.append("- Work only inside this directory. Do not commit, push, switch branches or rewrite history:")
        out.append("  Flotilla commits your changes when you exit.")
        if !brief.protectedPatterns.isEmpty {
            // Patterns anchored at the root ("/verify.sh") read as paths of this directory.
            let list = brief.protectedPatterns.map { "`\($0.hasPrefix("/") ? String($0.dropFirst()) : $0)`" }
                .joined(separator: ", ")
            out.append("- Do not modify these protected paths: \(list). An attempt that touches them is rejected.")
        }
        if brief.testsProtected {
            var line = "- Existing tests are protected: edits to them are taken back before the check. Add new test"
            line += " files instead: the check judges your code by the existing tests, and your new tests run when"
            line += " your work lands."
            if !brief.group.allow.isEmpty {
                line += " This group may edit: " + brief.group.allow.map { "`\($0)`" }.joined(separator: ", ") + "."
            }
            out.append(line)
        }
        out.append("- Stay within your group; other agents are working on other groups at the same time.")
        out.append(
            "- If a criterion cannot be met as written (it is impossible, or the tests contradict it), do not work "
                + "around it or special-case the tests: write why in a file `\(Dispute.fileName)` at the root of this "
                + "directory (or end your answer with a line `\(Dispute.marker) <why>`) and stop. A person reads it."
        )
        out.append("")
        out.append("## How your work is checked")
        out.append("")
        out.append("After you exit, Flotilla runs its own trusted copy of:")
        out.append("")
        out.append("    \(brief.checkCommand)")
        out.append("")
        out.append("with `FLOTILLA_GROUPS=\(brief.checkGroups)`. Exit status 0 passes. Your change is then merged onto")
        out.append("the latest verified work and everything already done is checked again before it lands.")
        if !brief.feedback.isEmpty {
            out.append("")
            out.append("## Earlier attempts on this group")
            let detailed = brief.feedback.suffix(detailedFeedbackCount)
            for older in brief.feedback.dropLast(detailed.count) {
                out.append("")
                out.append("- Attempt \(older.attempt): \(older.outcome.rawValue) — \(older.text.firstLine)")
            }
            for item in detailed {
                out.append("")
                out.append("### Attempt \(item.attempt): \(item.outcome.rawValue)")
                out.append("")
                out.append(item.text)
            }
        }
        if brief.escalation == .strategyChange {
            out.append("")
            out.append("## Change of strategy required")
            out.append("")
            out.append("Several attempts on this group have failed without progress. Do not repeat them: re-read")
            out.append("the criteria and the failure output above, question the assumptions the earlier attempts")
            out.append("made, and take a different approach.")
        }
        // Last, a call to act: a small model whose prompt ended with the rules answered "Understood." and stopped.
        out.append("")
        out.append("## Now")
        out.append("")
        out.append(callToAct(brief.group.id))
        return out.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// The first line, without its line break.
    package var firstLine: String {
        split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
    }
}
