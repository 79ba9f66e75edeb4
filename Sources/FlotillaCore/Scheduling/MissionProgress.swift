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
/// Every update costs time proportional to the edges it touches (plus a logarithm for the frontier's heap), so a
/// mission with thousands of groups schedules in near-linear total time.
package struct MissionProgress: Sendable {
    package private(set) var groups: [GroupProgress]
    private let indexByID: [String: Int]
    private let dependents: [[Int]]
    private var unmetDependencies: [Int]
    /// The frontier: ready group indices in a min-heap, checklist order first.
    ///
    /// Entries of groups that stopped being ready stay until they surface, and a group made ready again may appear
    /// twice; `isReady` says which entries count.
    private var readyHeap = MinHeap<Int>()
    private var isReady: [Bool]
    private var doneOrder: [Int] = []

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
        self.isReady = Array(repeating: false, count: groups.count)
        doneOrder = groups.indices.filter { groups[$0].status == .done }
        for index in groups.indices where groups[index].status == .pending && unmet[index] == 0 {
            makeReady(index)
        }
    }

    package init(checklist: Checklist) {
        self.init(checklist.groups.map { GroupProgress(id: $0.id, dependsOn: $0.dependsOn) })
    }

    package subscript(id: String) -> GroupProgress? {
        indexByID[id].map { groups[$0] }
    }

    /// The whole frontier: pending groups whose dependencies are all done and that nobody holds, in checklist order.
    package var frontier: [String] {
        groups.indices.filter { isReady[$0] }.map { groups[$0].id }
    }

    /// The first `limit` groups of the frontier, in checklist order, without looking at the rest.
    package func frontier(limit: Int) -> [String] {
        let heap = readyHeap.storage
        guard limit > 0, !heap.isEmpty else { return [] }
        // The k smallest entries of a binary heap: walk it from the root, always expanding the smallest position
        // seen so far (a small heap of positions keyed by their entries).
        var result: [Int] = []
        var taken = Set<Int>()
        var candidates = MinHeap<HeapPosition>()
        candidates.push(HeapPosition(value: heap[0], position: 0))
        while result.count < limit, let next = candidates.pop() {
            if isReady[next.value], taken.insert(next.value).inserted { result.append(next.value) }
            for child in [2 * next.position + 1, 2 * next.position + 2] where child < heap.count {
                candidates.push(HeapPosition(value: heap[child], position: child))
            }
        }
        return result.map { groups[$0].id }
    }

    package var allDone: Bool { doneOrder.count == groups.count }

    /// The groups landed so far, in the order they landed.
    package var doneIDs: [String] { doneOrder.map { groups[$0].id } }

    package var doneCount: Int { doneOrder.count }

    /// The last `limit` groups to land, most recent first.
    package func recentlyDone(limit: Int) -> [String] {
        doneOrder.suffix(limit).reversed().map { groups[$0].id }
    }

    package func count(_ status: GroupStatus) -> Int {
        status == .done ? doneOrder.count : groups.count { $0.status == status }
    }

    /// A slot claims the group (several slots, for `attempts` run at once: best of N): it leaves the frontier.
    package mutating func claim(_ id: String, attempts: Int = 1) {
        guard let index = indexByID[id], groups[index].status == .pending else { return }
        groups[index].status = .active
        groups[index].attempts += attempts
        makeUnready(index)
    }

    /// The claim ends without landing: the group is pending again (and ready, its dependencies being done).
    package mutating func release(_ id: String) {
        guard let index = indexByID[id], groups[index].status == .active else { return }
        groups[index].status = .pending
        if unmetDependencies[index] == 0 { makeReady(index) }
    }

    /// The group landed; returns the dependents that became ready.
    @discardableResult
    package mutating func markDone(_ id: String) -> [String] {
        guard let index = indexByID[id], groups[index].status != .done else { return [] }
        groups[index].status = .done
        doneOrder.append(index)
        makeUnready(index)
        var newlyReady: [String] = []
        for dependent in dependents[index] {
            unmetDependencies[dependent] -= 1
            if unmetDependencies[dependent] == 0 && groups[dependent].status == .pending {
                makeReady(dependent)
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
                makeUnready(index)
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

    private mutating func makeReady(_ index: Int) {
        guard !isReady[index] else { return }
        isReady[index] = true
        readyHeap.push(index)
    }

    private mutating func makeUnready(_ index: Int) {
        guard isReady[index] else { return }
        isReady[index] = false
        // Groups leave the frontier mostly from its front (dispatch takes the first): drop stale entries there,
        // so that queries do not wade through them.
        while let top = readyHeap.top, !isReady[top] { _ = readyHeap.pop() }
    }
}

private struct HeapPosition: Comparable {
    var value: Int
    var position: Int

    static func < (lhs: HeapPosition, rhs: HeapPosition) -> Bool { lhs.value < rhs.value }
}

/// A binary min-heap on an array.
struct MinHeap<Element: Comparable>: Sendable where Element: Sendable {
    var storage: [Element]

    init(storage: [Element] = []) {
        self.storage = storage
    }

    var top: Element? { storage.first }
    var count: Int { storage.count }

    mutating func push(_ element: Element) {
        storage.append(element)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard storage[child] < storage[parent] else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !storage.isEmpty else { return nil }
        storage.swapAt(0, storage.count - 1)
        let top = storage.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < storage.count && storage[left] < storage[smallest] { smallest = left }
            if right < storage.count && storage[right] < storage[smallest] { smallest = right }
            guard smallest != parent else { return top }
            storage.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
