import FlotillaCore
import Foundation

/// The checkouts of one mission, as a whole: what `cleanUp`, recovery and `gc` remove.
package struct MissionCheckouts {
    let git: any GitRepository
    let layout: MissionLayout

    package init(git: any GitRepository, layout: MissionLayout) {
        self.git = git
        self.layout = layout
    }

    /// Removes every checkout of the mission and its index; returns how many there were.
    ///
    /// Missions from before checkouts were plain directories registered them as git worktrees: those are forgotten.
    package func removeAll(_ id: MissionID) async -> Int {
        let directory = layout.worktrees(id)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names {
            let checkout = (directory as NSString).appendingPathComponent(name)
            try? git.removeCheckout(checkout, index: layout.index(id, of: checkout))
        }
        try? git.removeCheckout(directory, index: layout.indexes(id))
        try? await git.pruneWorktrees()
        return names.count
    }
}
