/// The one deadline an HTTP server connection has at a time (idle keep-alive, headers, whole
/// request, stalled writes), on one reactor timer that is moved lazily: most requests move the
/// deadline several times, and cancelling and scheduling a timer each time would churn the
/// reactor's timer heap. A timer that fires before the current deadline re-arms itself for it.
final class HTTPConnectionDeadline {
    enum Kind { case keepAlive, headers, request, writeStall }

    private unowned let reactor: Reactor
    private let expired: (Kind) -> Void
    private var deadline: (at: ReactorInstant, kind: Kind)?
    private var armed: (at: ReactorInstant, id: TimerID)?

    /// `expired` runs on the reactor thread when a deadline passes without being moved or cleared.
    init(reactor: Reactor, expired: @escaping (Kind) -> Void) {
        self.reactor = reactor
        self.expired = expired
    }

    /// The deadline of `kind`, `milliseconds` after `base`, replacing the current one.
    func set(_ kind: Kind, milliseconds: Int, after base: ReactorInstant) {
        let at = base.adding(milliseconds: milliseconds)
        deadline = (at, kind)
        // A timer that fires at or before the new deadline re-checks and re-arms itself, so it
        // is kept; only a later one is replaced.
        if let armed, armed.at <= at { return }
        if let armed { reactor.cancel(armed.id) }
        arm(at: at)
    }

    /// No deadline for now; the armed timer, if any, finds none and does nothing.
    func clear() {
        deadline = nil
    }

    /// No deadline and no timer: for a connection that is gone.
    func cancel() {
        deadline = nil
        if let armed { reactor.cancel(armed.id) }
        armed = nil
    }

    private func arm(at: ReactorInstant) {
        let id = reactor.schedule(at: at) { [weak self] in self?.fired() }
        armed = (at, id)
    }

    private func fired() {
        armed = nil
        guard let deadline else { return }
        if reactor.now < deadline.at {
            arm(at: deadline.at)
            return
        }
        self.deadline = nil
        expired(deadline.kind)
    }
}
