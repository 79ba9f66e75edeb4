import FlotillaCore
import Foundation

/// Where a repository's git data lives, found once from the user's working tree (before any agent runs) and then
/// given to git explicitly.
enum GitDirectory {
    /// The git directory of the working tree at `root`: `root/.git` when it is a directory, else the directory a
    /// `.git` file names (a linked worktree or a submodule).
    static func of(_ root: String) -> String {
        let dotGit = (root as NSString).appendingPathComponent(".git")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dotGit, isDirectory: &isDirectory), isDirectory.boolValue {
            return dotGit
        }
        if let text = try? String(contentsOfFile: dotGit, encoding: .utf8),
            let line = text.split(separator: "\n").first, line.hasPrefix("gitdir: ")
        {
            return absolute(String(line.dropFirst("gitdir: ".count)).trimmingWhitespace(), relativeTo: root)
        }
        return dotGit
    }

    /// The directory shared by all working trees of a repository (objects, refs, `info/`): the one a `commondir`
    /// file names, else the git directory itself.
    static func common(of gitDirectory: String) -> String {
        let file = (gitDirectory as NSString).appendingPathComponent("commondir")
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return gitDirectory }
        return absolute(text.trimmingWhitespace(), relativeTo: gitDirectory)
    }

    private static func absolute(_ path: String, relativeTo base: String) -> String {
        let joined = path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
        return URL(fileURLWithPath: joined).standardizedFileURL.path
    }
}
