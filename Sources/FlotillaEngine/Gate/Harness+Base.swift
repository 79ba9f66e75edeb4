import FlotillaCore
import Foundation

extension Harness {
    /// The harness of `commands` as the base commit `base` holds it: one listing of the base's files, then only the
    /// files the walk reaches are read.
    static func of(commands: [String], base: String, git: any GitRepository) async throws -> Harness {
        let existing = try await git.paths(at: base)
        return await Harness.resolve(commands: commands) { path in
            guard existing.contains(path) else { return nil }
            return try? await git.fileContents(at: base, path: path)
        }
    }

    /// The mission's harness: its verify command and its groups' checks, followed through the base.
    static func of(_ spec: MissionSpec, git: any GitRepository) async throws -> Harness {
        try await of(commands: spec.judgingCommands, base: spec.baseCommit, git: git)
    }
}

extension MissionSpec {
    /// The commands that judge: the verify command, each group's own check, and the probes.
    var judgingCommands: [String] {
        [verifyCommand].compactMap { $0 } + checklist.groups.compactMap(\.check) + checklist.probeCommands
    }
}
