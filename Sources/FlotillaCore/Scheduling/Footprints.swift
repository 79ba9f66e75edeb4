/// Which files each group is expected to touch, and the dispatch order that keeps two groups expected to touch the
/// same file from running at once: fewer merge conflicts, at no cost while other work is ready.
///
/// A group's footprint is its checklist's `Files:` line plus the files its earlier attempts conflicted on.
package struct Footprints: Sendable, Equatable {
    package var files: [String: Set<String>] = [:]

    package init(_ checklist: Checklist) {
        for group in checklist.groups where !group.files.isEmpty { files[group.id] = Set(group.files) }
    }

    package init(files: [String: Set<String>] = [:]) {
        self.files = files
    }

    /// Learns that an attempt of `group` touched `paths` (they conflicted with landed work).
    package mutating func learn(_ group: String, touched paths: [String]) {
        guard !paths.isEmpty else { return }
        files[group, default: []].formUnion(paths)
    }

    /// Up to `slots` of `ready` (in their order) to dispatch beside `running`: first those whose footprint overlaps
    /// nothing running or chosen, then, rather than leave an agent idle, the others.
    package func choose(_ ready: [String], running: [String], slots: Int) -> [String] {
        guard !files.isEmpty else { return Array(ready.prefix(slots)) }
        var busy = Set<String>()
        for group in running { busy.formUnion(files[group] ?? []) }
        var chosen: [String] = []
        var overlapping: [String] = []
        for group in ready where chosen.count < slots {
            let footprint = files[group] ?? []
            if footprint.isDisjoint(with: busy) {
                chosen.append(group)
                busy.formUnion(footprint)
            } else {
                overlapping.append(group)
            }
        }
        return chosen + overlapping.prefix(max(0, slots - chosen.count))
    }
}
