import FlotillaCore
import FlotillaTestSupport
import Testing

@Suite("The merge queue: batches, bisection, order (no git)", .tags(.small))
struct MergeQueueTests {
    @Test func roundsTakeUpToTheBatchInArrivalOrderOneAtATime() {
        var queue = MergeQueue<String>(batchSize: 3)
        for name in ["a", "b", "c", "d", "e"] { queue.enqueue(name) }
        #expect(queue.nextRound() == ["a", "b", "c"])
        // One round lands at a time: nothing more until it ends.
        #expect(queue.nextRound() == nil)
        #expect(queue.count == 5 && queue.pending == ["d", "e"])
        queue.finish(.landed)
        #expect(queue.nextRound() == ["d", "e"])
        queue.finish(.landed)
        #expect(queue.nextRound() == nil && queue.count == 0)
    }

    @Test func aFailedBatchIsBisectedUntilTheCulpritIsAloneBeforeAnythingNew() {
        var queue = MergeQueue<String>(batchSize: 8)
        for name in ["b", "c", "d", "e"] { queue.enqueue(name) }
        let round = queue.nextRound() ?? []
        queue.enqueue("late")
        #expect(queue.finish(.failed(included: round)) == nil)
        #expect(queue.nextRound() == ["b", "c"])
        queue.finish(.landed)
        #expect(queue.nextRound() == ["d", "e"])
        #expect(queue.finish(.failed(included: ["d", "e"])) == nil)
        #expect(queue.nextRound() == ["d"])
        #expect(queue.finish(.failed(included: ["d"])) == "d")
        #expect(queue.nextRound() == ["e"])
        queue.finish(.landed)
        // Only then what arrived meanwhile.
        #expect(queue.nextRound() == ["late"])
    }

    @Test func candidatesPutBackGoFirstAndDrainingEmptiesEverything() {
        var queue = MergeQueue<Int>(batchSize: 2)
        for number in 1...4 { queue.enqueue(number) }
        let round = queue.nextRound() ?? []
        #expect(round == [1, 2])
        queue.putBack([2])
        queue.finish(.landed)
        #expect(queue.nextRound() == [2, 3])
        queue.finish(.abandoned)
        #expect(queue.drain() == [4])
        #expect(queue.count == 0 && queue.nextRound() == nil)
        #expect(MergeQueue<Int>(batchSize: 0).batchSize == 1)
    }
}
