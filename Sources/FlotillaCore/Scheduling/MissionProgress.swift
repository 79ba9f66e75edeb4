/// The scheduling view of one group: its status and its place on the stall ladder.
package struct GroupProgress: Sendable, Equatable {
    package let id: String
    package let dependsOn: [String]
    package var status: GroupStatus
    /// Attempts started on this group.
    package var attempts: Int
    /// Consecutive failed attempts without progress at the current escalation.
    package var stalledAttempts: Int
    package var escalation: Escalation
    /// The most criteria a verify report has shown passing for this group.
    package var bestCriteriaPassed: Int?

    package init(
        id: String,
        dependsOn: [String],
        status: GroupStatus = .pending,
        attempts: Int = 0,
        stalledAttempts: Int = 0,
        escalation: Escalation = .none,
        bestCriteriaPassed: Int? = nil
    ) {
        self.id = id
        self.dependsOn = dependsOn
        self.status = status
        self.attempts = attempts
        self.stalledAttempts = stalledAttempts
        self.escalation = escalation
        self.bestCriteriaPassed = bestCriteriaPassed
    }
}

/// The groups of a mission with an incrementally maintained frontier.
///
/// Every update costs time proportional to the edges it touches, so a mission with thousands of groups
/// schedules in linear total time.
package struct MissionProgress: Sendable {
    package private(set) var groups: [GroupProgress]
    private let indexByID: [String: Int]
    private let dependents: [[Int]]
    private var unmetDependencies: [Int]
    private var readyIndices: Set<Int>

    package init(_ groups: [GroupProgress]) {
        self.groups = groups
        var indexByID: [String: Int] = [:]
        for (index, group) in groups.enumerated() { indexByID[group.id] = index }
        var dependents = Array(repeating: [Int](), count: groups.count)
        var unmet = Array(repeating: 0, count: groups.count)
        for (index, group) in groups.enumerated() {
            for dependency in group.dependsOn {
                guard let dependencyIndex = indexByID[dependency] else { continue }
                dependents[dependencyIndex].append(index)
                if groups[dependencyIndex].status != .done { unmet[index] += 1 }
            }
        }
        self.indexByID = indexByID
        self.dependents = dependents
        self.unmetDependencies = unmet
        self.readyIndices = Set(groups.indices.filter { groups[$0].status == .pending && unmet[$0] == 0 })
    }

    package init(checklist: Checklist) {
        self.init(checklist.groups.map { GroupProgress(id: $0.id, dependsOn: $0.dependsOn) })
    }

    package subscript(id: String) -> GroupProgress? {
        indexByID[id].map { groups[$0] }
    }

    /// The frontier: pending groups whose dependencies are all done and that nobody holds, in checklist order.
    package var frontier: [String] {
        readyIndices.sorted().map { groups[$0].id }
    }

    package var allDone: Bool { groups.allSatisfy { $0.status == .done } }

    package var doneIDs: [String] { groups.filter { $0.status == .done }.map(\.id) }

    package func count(_ status: GroupStatus) -> Int { groups.count { $0.status == status } }

    /// A slot claims the group: it leaves the frontier.
    package mutating func claim(_ id: String) {
        guard let index = indexByID[id], groups[index].status == .pending else { return }
        groups[index].status = .active
        groups[index].attempts += 1
        readyIndices.remove(index)
    }

    /// The claim ends without landing: the group is pending again (and ready, its dependencies being done).
    package mutating func release(_ id: String) {
        guard let index = indexByID[id], groups[index].status == .active else { return }
        groups[index].status = .pending
        if unmetDependencies[index] == 0 { readyIndices.insert(index) }
    }

    /// The group landed; returns the dependents that became ready.
    @discardableResult
    package mutating func markDone(_ id: String) -> [String] {
        guard let index = indexByID[id], groups[index].status != .done else { return [] }
        groups[index].status = .done
        readyIndices.remove(index)
        var newlyReady: [String] = []
        for dependent in dependents[index] {
            unmetDependencies[dependent] -= 1
            if unmetDependencies[dependent] == 0 && groups[dependent].status == .pending {
                readyIndices.insert(dependent)
                newlyReady.append(groups[dependent].id)
            }
        }
        return newlyReady
    }

    /// Blocks the group and, transitively, every dependent that has not landed; returns the dependents blocked.
    @discardableResult
    package mutating func block(_ id: String) -> [String] {
        guard let start = indexByID[id] else { return [] }
        var blockedDependents: [String] = []
        var stack = [start]
        while let index = stack.popLast() {
            guard groups[index].status != .done, groups[index].status != .blocked || index == start else { continue }
            if groups[index].status != .blocked {
                groups[index].status = .blocked
                readyIndices.remove(index)
                if index != start { blockedDependents.append(groups[index].id) }
            }
            stack.append(contentsOf: dependents[index])
        }
        return blockedDependents
    }

    /// Records the stall bookkeeping decided by ``StallRule``.
    package mutating func update(_ id: String, with assessment: StallAssessment) {
        guard let index = indexByID[id] else { return }
        groups[index].stalledAttempts = assessment.stalledAttempts
        groups[index].escalation = assessment.escalation
        groups[index].bestCriteriaPassed = assessment.bestCriteriaPassed
    }
}
