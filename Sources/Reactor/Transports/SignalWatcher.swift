/// Delivers process signals (SIGTERM, SIGINT) on the reactor thread through a signalfd.
///
/// The signals must be blocked in every thread first (`SignalFD.blockInProcess`, from `main`
/// before any thread starts), or the kernel may hand them to another thread's default action.
package final class SignalWatcher: IOHandler {
    private unowned let reactor: Reactor
    private let fd: CInt
    private var registration: IORegistration?
    private let onSignal: (CInt) -> Void

    package init(reactor: Reactor, signals: [CInt], onSignal: @escaping (CInt) -> Void) throws {
        self.reactor = reactor
        self.fd = try SignalFD.create(signals)
        self.onSignal = onSignal
        do {
            registration = try reactor.register(fd: fd, interest: .read, handler: self)
        } catch {
            Socket.close(fd)
            throw error
        }
    }

    deinit {
        assert(registration == nil, "SignalWatcher dropped without close()")
    }

    package func close() {
        guard let registration else { return }
        reactor.deregister(registration)
        Socket.close(fd)
        self.registration = nil
    }

    package func reactorReadable() {
        for signal in SignalFD.read(fd) { onSignal(signal) }
    }

    package func reactorWritable() {}
    package func reactorShutdown() {
        close()
    }

    package func reactorHangup() {}
}
