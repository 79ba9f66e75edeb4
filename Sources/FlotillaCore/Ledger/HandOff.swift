import Foundation

/// One push of the target branch to a remote (`--push REMOTE`), with the lease it carried.
package struct PushAttempt: Sendable, Equatable {
    package var remote: String
    package var branch: String
    package var commit: String
    /// Where the remote's branch had to be (what Flotilla pushed last; nil: nowhere yet).
    package var expected: String?
    /// What git said when the push was refused; nil when it went through.
    package var refusal: String?

    package init(remote: String, branch: String, commit: String, expected: String?, refusal: String? = nil) {
        self.remote = remote
        self.branch = branch
        self.commit = commit
        self.expected = expected
        self.refusal = refusal
    }
}

/// `flotilla land ID --onto BRANCH`: the verified result brought onto the user's branch, or why not.
package struct LandingOnto: Sendable, Equatable {
    package var branch: String
    /// The branch's commit before.
    package var from: String
    /// The commit the branch moved to (the mission's result, or a merge of it), or would have.
    package var commit: String?
    /// `fast-forward`, `merge`, or `already` (the branch already holds the result).
    package var how: String
    /// Why it did not land; nil when it did.
    package var refusal: String?

    package init(branch: String, from: String, commit: String?, how: String, refusal: String? = nil) {
        self.branch = branch
        self.from = from
        self.commit = commit
        self.how = how
        self.refusal = refusal
    }
}
