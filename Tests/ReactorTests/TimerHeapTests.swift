import Testing
@testable import Reactor

@Suite struct TimerHeapTests {
    @Test func popsDueTimersInDeadlineOrder() {
        var heap = TimerHeap()
        var fired: [Int] = []
        for (index, at) in [50, 10, 30, 20, 40].enumerated() {
            _ = heap.schedule(at: ReactorInstant(nanoseconds: UInt64(at))) { fired.append(index) }
        }
        for callback in heap.popDue(at: ReactorInstant(nanoseconds: 35)) { callback() }
        #expect(fired == [1, 3, 2])
        #expect(heap.count == 2)
        let next = heap.nextDeadline()
        #expect(next == ReactorInstant(nanoseconds: 40))
    }

    @Test func cancelledTimersNeverFireAndDoNotHoldTheDeadline() {
        var heap = TimerHeap()
        var fired = false
        let early = heap.schedule(at: ReactorInstant(nanoseconds: 5)) { fired = true }
        _ = heap.schedule(at: ReactorInstant(nanoseconds: 100)) {}
        let first = heap.cancel(early)
        let second = heap.cancel(early)
        #expect(first && !second)
        let next = heap.nextDeadline()
        #expect(next == ReactorInstant(nanoseconds: 100))
        for callback in heap.popDue(at: ReactorInstant(nanoseconds: 50)) { callback() }
        #expect(!fired)
        #expect(heap.count == 1)
    }

    @Test func equalDeadlinesFireInSchedulingOrder() {
        var heap = TimerHeap()
        var order: [Int] = []
        for index in 0..<20 { _ = heap.schedule(at: ReactorInstant(nanoseconds: 7)) { order.append(index) } }
        for callback in heap.popDue(at: ReactorInstant(nanoseconds: 7)) { callback() }
        #expect(order == Array(0..<20))
    }

    @Test func instantArithmeticSaturatesAndRoundsUp() {
        let start = ReactorInstant(nanoseconds: 1_000)
        #expect(start.milliseconds(until: ReactorInstant(nanoseconds: 1_001)) == 1)
        #expect(start.milliseconds(until: ReactorInstant(nanoseconds: 500)) == 0)
        #expect(ReactorInstant(nanoseconds: .max - 5).adding(milliseconds: 10).nanoseconds == .max)
    }
}
