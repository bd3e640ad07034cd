import Synchronization

/// One value of a metric family at render time, with its label values in the family's order.
package struct MetricSample: Sendable {
    package var labels: [String]
    package var value: Double

    package init(labels: [String] = [], _ value: Double) {
        self.labels = labels
        self.value = value
    }
}

/// The metrics of one process, rendered as Prometheus text (`GET /api/metrics`).
///
/// Any feature registers its series here once, at wiring time, and keeps the returned handle:
/// recording is then an atomic operation on that handle, with no lock and no lookup. Gauges
/// whose value lives elsewhere (a queue's length, an actor's state) are registered as closures
/// and read only when the text is rendered; `collect` takes an async closure for values that
/// must be fetched (a database count, an actor). Registration and rendering take a mutex, which
/// is fine: both are rare.
package final class MetricsRegistry: Sendable {
    package enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    private enum Source: Sendable {
        case counters(MetricFamily<Counter>)
        case gauges(MetricFamily<Gauge>)
        case histograms(MetricFamily<Histogram>)
        case collector(@Sendable () async -> [MetricSample])
    }

    private struct Family: Sendable {
        var name: String
        var help: String
        var kind: Kind
        var labelNames: [String]
        var source: Source
    }

    private let families = Mutex<[Family]>([])

    package init() {}

    // MARK: - Registration

    /// A counter without labels.
    package func counter(_ name: String, help: String) -> Counter {
        counter(name, help: help, labelNames: []).labels()
    }

    /// A counter family; `labels(...)` returns (and keeps) the counter of one label set.
    package func counter(_ name: String, help: String, labelNames: [String]) -> MetricFamily<Counter> {
        let family = MetricFamily(labelNames: labelNames, make: Counter.init)
        add(Family(name: name, help: help, kind: .counter, labelNames: labelNames, source: .counters(family)))
        return family
    }

    /// A settable gauge without labels.
    package func gauge(_ name: String, help: String) -> Gauge {
        let family = MetricFamily(labelNames: [], make: Gauge.init)
        add(Family(name: name, help: help, kind: .gauge, labelNames: [], source: .gauges(family)))
        return family.labels()
    }

    /// A gauge read from `read` whenever the metrics are rendered; `read` must be cheap and
    /// callable from any thread.
    package func gauge(_ name: String, help: String, read: @escaping @Sendable () -> Double) {
        collect(name, help: help, kind: .gauge) { [MetricSample(read())] }
    }

    /// A family whose samples `body` produces at render time (it may await an actor or a store).
    package func collect(
        _ name: String, help: String, kind: Kind = .gauge, labelNames: [String] = [],
        _ body: @escaping @Sendable () async -> [MetricSample]
    ) {
        add(Family(name: name, help: help, kind: kind, labelNames: labelNames, source: .collector(body)))
    }

    /// A histogram family with the given bucket upper bounds.
    package func histogram(
        _ name: String, help: String, labelNames: [String], bounds: [Double] = Histogram.latencySeconds
    ) -> MetricFamily<Histogram> {
        let family = MetricFamily(labelNames: labelNames) { Histogram(bounds: bounds) }
        add(Family(name: name, help: help, kind: .histogram, labelNames: labelNames, source: .histograms(family)))
        return family
    }

    /// Names are unique: registering one twice is a wiring bug, found at startup.
    private func add(_ family: Family) {
        families.withLock { families in
            precondition(!families.contains { $0.name == family.name }, "metric \(family.name) registered twice")
            families.append(family)
        }
    }

    /// The registered names, in registration order.
    package var names: [String] { families.withLock { $0.map(\.name) } }

    // MARK: - Rendering

    /// The Prometheus text exposition (format 0.0.4) of every family, in registration order.
    package func render() async -> String {
        let snapshot = families.withLock { $0 }
        var text = PrometheusText()
        for family in snapshot {
            text.header(name: family.name, help: family.help, kind: family.kind.rawValue)
            switch family.source {
            case .counters(let counters):
                for (labels, counter) in counters.children {
                    text.sample(family.name, family.labelNames, labels, Double(counter.current))
                }
            case .gauges(let gauges):
                for (labels, gauge) in gauges.children {
                    text.sample(family.name, family.labelNames, labels, gauge.current)
                }
            case .histograms(let histograms):
                for (labels, histogram) in histograms.children {
                    text.histogram(family.name, family.labelNames, labels, histogram)
                }
            case .collector(let body):
                for sample in await body() {
                    text.sample(family.name, family.labelNames, sample.labels, sample.value)
                }
            }
        }
        return text.output
    }
}

/// The children of one labelled family, created on first use and kept for the process's life.
/// Callers look a child up once and keep it; the lookup takes a mutex, recording does not.
package final class MetricFamily<Child: Sendable>: Sendable {
    package let labelNames: [String]
    private let make: @Sendable () -> Child
    private let table = Mutex<(order: [[String]], byLabels: [[String]: Child])>(([], [:]))

    init(labelNames: [String], make: @escaping @Sendable () -> Child) {
        self.labelNames = labelNames
        self.make = make
    }

    /// The child for these label values (one per label name, in order).
    package func labels(_ values: String...) -> Child {
        labels(values)
    }

    package func labels(_ values: [String]) -> Child {
        precondition(values.count == labelNames.count, "expected \(labelNames.count) label values, got \(values.count)")
        return table.withLock { table in
            if let child = table.byLabels[values] { return child }
            let child = make()
            table.order.append(values)
            table.byLabels[values] = child
            return child
        }
    }

    var children: [([String], Child)] {
        table.withLock { table in table.order.map { ($0, table.byLabels[$0]!) } }
    }
}
