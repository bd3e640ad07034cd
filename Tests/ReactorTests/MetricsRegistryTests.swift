import Dispatch
import Reactor
import Testing
import TestSupport

@Suite struct MetricsRegistryTests {
    @Test func rendersEveryKindInRegistrationOrder() async {
        let registry = MetricsRegistry()
        let requests = registry.counter("jobs_total", help: "Jobs done.", labelNames: ["queue"])
        let gauge = registry.gauge("depth", help: "Queue depth.")
        registry.gauge("answer", help: "A closure gauge.") { 42 }
        registry.collect("by_state", help: "Async samples.", labelNames: ["state"]) {
            [MetricSample(labels: ["idle"], 2), MetricSample(labels: ["busy"], 0.5)]
        }
        let latency = registry.histogram("wait_seconds", help: "Waits.", labelNames: [], bounds: [0.1, 1])
        requests.labels("mail").increment()
        requests.labels("mail").increment(by: 2)
        requests.labels("sms").increment()
        gauge.set(3)
        gauge.add(-1.5)
        latency.labels().observe(0.05)
        latency.labels().observe(2)
        #expect(
            await registry.render() == """
                # HELP jobs_total Jobs done.
                # TYPE jobs_total counter
                jobs_total{queue="mail"} 3
                jobs_total{queue="sms"} 1
                # HELP depth Queue depth.
                # TYPE depth gauge
                depth 1.5
                # HELP answer A closure gauge.
                # TYPE answer gauge
                answer 42
                # HELP by_state Async samples.
                # TYPE by_state gauge
                by_state{state="idle"} 2
                by_state{state="busy"} 0.5
                # HELP wait_seconds Waits.
                # TYPE wait_seconds histogram
                wait_seconds_bucket{le="0.1"} 1
                wait_seconds_bucket{le="1"} 1
                wait_seconds_bucket{le="+Inf"} 2
                wait_seconds_sum 2.05
                wait_seconds_count 2

                """)
        #expect(registry.names == ["jobs_total", "depth", "answer", "by_state", "wait_seconds"])
    }

    @Test func labelValuesAreEscaped() async {
        let registry = MetricsRegistry()
        registry.counter("odd_total", help: "Back\\slash\nnewline.", labelNames: ["v"]).labels("a\"b\\c\nd").increment()
        let text = await registry.render()
        #expect(text.contains(#"# HELP odd_total Back\\slash\nnewline."#))
        #expect(text.contains(#"odd_total{v="a\"b\\c\nd"} 1"#))
    }

    @Test func concurrentIncrementsAreAllCounted() async {
        let counter = MetricsRegistry().counter("hits_total", help: "Hits.")
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10_000 { counter.increment() }
        }
        #expect(counter.current == 80_000)
    }

    @Test func workerPoolCountsOutstandingWork() async throws {
        let pool = WorkerPool(size: 1)
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        async let first: Void = pool.lane(for: 0).run {
            started.signal()
            gate.wait()
        }
        // Off the cooperative pool: the child task that submits the work needs a thread of it.
        try await blocking { started.wait() }
        #expect(pool.outstanding == 1)
        gate.signal()
        try await first
        #expect(pool.outstanding == 0)
    }
}
