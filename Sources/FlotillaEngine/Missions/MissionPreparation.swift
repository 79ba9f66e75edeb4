import FlotillaCore
import Foundation

/// What the user asked for when starting a mission: the checklist read, the backend chosen, and every field as
/// layered from the configuration files, the environment and the flags or request.
package struct MissionRequest: Sendable {
    package var checklist: Checklist
    /// Where the checklist was read from, as given (for messages and protection).
    package var checklistPath: String
    package var backend: BackendName
    package var fields: MissionFields
    /// The pipelines its attempts run (``Pipeline/chosen(by:mission:defined:)``), checked.
    package var pipelines: [Pipeline]

    package init(
        checklist: Checklist,
        checklistPath: String,
        backend: BackendName,
        fields: MissionFields,
        pipelines: [Pipeline] = []
    ) {
        self.checklist = checklist
        self.checklistPath = checklistPath
        self.backend = backend
        self.fields = fields
        self.pipelines = pipelines
    }
}

/// A mission that passed every check and is ready to be written down.
package struct PreparedMission: Sendable {
    package var spec: MissionSpec
    /// Whether the target branch must be created at the base commit.
    package var createsTargetBranch: Bool
    /// Things the user should know but that do not stop the mission.
    package var warnings: [String]
}

/// Preflight and baseline (PRODUCT.md §3 steps 1 and 3): checks everything first, then writes the mission.
package struct MissionPreparation: Sendable {
    private let git: any GitRepository
    private let layout: MissionLayout

    package init(git: any GitRepository, layout: MissionLayout) {
        self.git = git
        self.layout = layout
    }

    /// Checks the request against the repository without changing anything.
    package func prepare(_ request: MissionRequest, id: MissionID = .random()) async throws -> PreparedMission {
        let goal =
            (request.fields.goal?.trimmingWhitespace()).flatMap { $0.isEmpty ? nil : $0 } ?? request.checklist.title
        guard !goal.isEmpty else {
            throw FlotillaError.invalid(
                "give a goal with --goal, or a `# Title` line at the top of \(request.checklistPath)"
            )
        }
        let unchecked = request.checklist.groups.filter { $0.check == nil }.map(\.id)
        let verify = request.fields.verify?.trimmingWhitespace()
        if (verify ?? "").isEmpty && !unchecked.isEmpty {
            throw FlotillaError.invalid(
                "no verify command: pass --verify COMMAND (groups without a `Check:` line: \(unchecked.joined(separator: ", ")))"
            )
        }

        var warnings: [String] = []
        let target = request.fields.targetBranch ?? MissionLayout.defaultTargetBranch(id)
        guard Self.isValidBranchName(target) else {
            throw FlotillaError.invalid("--target-branch \(target) is not a valid branch name")
        }
        var baseCommit: String
        var createsTargetBranch = true
        if try await git.branchExists(target) {
            guard let head = try await git.resolveCommit("refs/heads/\(target)") else {
                throw FlotillaError.invalid("cannot read the target branch \(target)")
            }
            if let base = request.fields.base, let wanted = try await git.resolveCommit(base), wanted != head {
                throw FlotillaError.invalid(
                    "the target branch \(target) already exists at \(head.shortSHA), not at --base \(base); "
                        + "drop --base to continue from the branch, or name a new target branch"
                )
            }
            if try await git.currentBranch() == target {
                throw FlotillaError.invalid(
                    "the target branch \(target) is checked out in \(git.root); Flotilla would move it under your "
                        + "working tree. Check out another branch, or let Flotilla use its own (omit --target-branch)"
                )
            }
            baseCommit = head
            createsTargetBranch = false
        } else {
            let revision = request.fields.base ?? "HEAD"
            guard let commit = try await git.resolveCommit(revision) else {
                throw FlotillaError.invalid(
                    revision == "HEAD"
                        ? "the repository at \(git.root) has no commits yet; commit your project first"
                        : "--base \(revision) does not name a commit"
                )
            }
            baseCommit = commit
        }

        // The gate: the files the verify and check commands run, followed through what they delegate to (scripts,
        // Makefiles, package.json, tox.ini), as the base commit has them, and the probes'. Every one is protected and
        // trusted.
        let commands =
            [verify].compactMap { $0 } + request.checklist.groups.compactMap(\.check) + request.checklist.probeCommands
        let harness = try await Harness.of(commands: commands, base: baseCommit, git: git)
        for command in commands where !command.isEmpty {
            for path in ShellWords.repositoryPaths(in: command) where harness.files[path] == nil {
                if Self.isFile((git.root as NSString).appendingPathComponent(path)),
                    try await git.fileContents(at: baseCommit, path: path) == nil
                {
                    throw FlotillaError.invalid(
                        "the verify script \(path) is not committed at \(baseCommit.shortSHA); commit it so every "
                            + "worktree has the trusted copy"
                    )
                }
            }
        }
        if let verify, !verify.isEmpty, harness.files.isEmpty, let first = ShellWords.split(verify).first,
            first.hasPrefix("./") || first.hasSuffix(".sh")
        {
            throw FlotillaError.invalid(
                "the verify command names \(first), which is not a file of the repository at \(baseCommit.shortSHA)"
            )
        }

        var patterns = ["/ACCEPTANCE.md", "/flotilla.toml"]
        if let relative = relativePath(of: request.checklistPath), relative != "ACCEPTANCE.md" {
            patterns.append("/" + relative)
        }
        patterns += harness.files.keys.sorted().map { "/" + $0 }
        // A probe's result file is the probe's to write: an attempt that commits one is rejected.
        patterns += request.checklist.allProbes.compactMap(\.file).map { "/" + $0 }
        // What a pipeline's steps are told is the mission's, not an agent's to rewrite for the next step.
        patterns += request.pipelines.flatMap(\.promptFiles).map { "/" + $0 }
        for pipeline in request.pipelines {
            for step in pipeline.steps {
                if let prompt = step.prompt, try await git.fileContents(at: baseCommit, path: prompt) == nil {
                    throw FlotillaError.invalid(
                        "pipeline \(pipeline.name), step \(step.id): its prompt \(prompt) is not in the base commit "
                            + "\(baseCommit.shortSHA) (commit it first: steps read the committed copy)"
                    )
                }
            }
        }
        patterns += request.fields.protect ?? []
        for pattern in request.fields.protect ?? [] where pattern.trimmingWhitespace().isEmpty {
            throw FlotillaError.invalid("--protect needs a path or glob, got an empty one")
        }

        let dirty = try await git.uncommittedPaths().filter {
            !$0.hasPrefix(".flotilla/") && !$0.hasPrefix(".flotilla")
        }
        if !dirty.isEmpty {
            warnings.append(
                "\(dirty.count) uncommitted change\(dirty.count == 1 ? "" : "s") in \(git.root) will not be seen: "
                    + "agents work from \(baseCommit.shortSHA)"
            )
        }

        let spec = MissionSpec(
            id: id,
            goal: goal,
            repository: git.root,
            baseCommit: baseCommit,
            targetBranch: target,
            verifyCommand: (verify ?? "").isEmpty ? nil : verify,
            protectedPatterns: ProtectedPaths(patterns).patterns,
            agents: request.fields.agentCount,
            backend: request.backend.rawValue,
            model: request.fields.model,
            limits: request.fields.limits,
            checklist: request.checklist,
            checklistSource: request.checklistPath,
            options: request.fields,
            pipelines: request.pipelines
        )
        return PreparedMission(
            spec: spec,
            createsTargetBranch: createsTargetBranch,
            warnings: warnings
        )
    }

    /// Writes the mission: ledger rows and event, target branch, the checklist copy.
    ///
    /// If any step fails, what was created is removed again.
    package func create(
        _ prepared: PreparedMission,
        ledger: any MissionLedger,
        now: Date,
        sink: any MissionEventSink
    ) async throws {
        let spec = prepared.spec
        try await git.excludeLocally("/.flotilla/")
        if prepared.createsTargetBranch {
            try await git.createBranch(spec.targetBranch, at: spec.baseCommit, force: false)
        }
        do {
            try FileManager.default.createDirectory(
                atPath: layout.missionDirectory(spec.id),
                withIntermediateDirectories: true
            )
            try ChecklistRenderer.render(spec.checklist).write(
                toFile: layout.checklistCopy(spec.id),
                atomically: true,
                encoding: .utf8
            )
            let event = try await ledger.record(.missionCreated(spec), mission: spec.id, at: now)
            sink.publish(event)
        } catch {
            if prepared.createsTargetBranch { try? await git.deleteBranches([spec.targetBranch]) }
            try? FileManager.default.removeItem(atPath: layout.missionDirectory(spec.id))
            throw error
        }
    }

    private func relativePath(of path: String) -> String? {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: git.root).standardizedFileURL.resolvingSymlinksInPath().path
        guard absolute.hasPrefix(root + "/") else { return nil }
        return String(absolute.dropFirst(root.count + 1))
    }

    static func isValidBranchName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("-") && !name.hasPrefix("/") && !name.hasSuffix("/")
            && !name.hasSuffix(".lock")
            && !name.contains("..") && !name.contains("//") && !name.contains("@{")
            && name.allSatisfy { !$0.isWhitespace && !"~^:?*[\\".contains($0) }
    }

    private static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
