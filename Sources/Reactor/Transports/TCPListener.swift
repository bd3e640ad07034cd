import Logging

/// A listening TCP socket on the reactor that hands each accepted descriptor to `onAccept`.
///
/// When the process runs out of descriptors (EMFILE/ENFILE) accepting pauses for a moment
/// instead of spinning on a listener that stays readable.
package final class TCPListener: IOHandler {
    private unowned let reactor: Reactor
    private let fd: CInt
    private var registration: IORegistration?
    private let onAccept: (AcceptedSocket) -> Void
    /// The port actually bound (useful with port 0).
    package let port: Int

    package init(
        reactor: Reactor, host: String, port: Int, backlog: Int = 1024,
        onAccept: @escaping (AcceptedSocket) -> Void
    ) throws {
        reactor.handle.preconditionInReactorThread()
        let bound = try Socket.listen(host: host, port: port, backlog: backlog)
        self.reactor = reactor
        self.fd = bound.fd
        self.port = bound.port
        self.onAccept = onAccept
        do {
            registration = try reactor.register(fd: fd, interest: .read, handler: self)
        } catch {
            Socket.close(bound.fd)
            throw error
        }
    }

    deinit {
        assert(registration == nil, "TCPListener dropped without close()")
    }

    /// Whether the listener is still accepting.
    package var isOpen: Bool { registration != nil }

    /// Stops accepting and closes the socket; connections already accepted are not touched.
    package func close() {
        guard let registration else { return }
        reactor.deregister(registration)
        Socket.close(fd)
        self.registration = nil
    }

    package func reactorReadable() {
        // Bound the batch so one busy listener cannot starve the rest of the tick.
        for _ in 0..<256 {
            guard registration != nil else { return }
            do {
                switch try Socket.accept(fd) {
                case .processed(let socket): onAccept(socket)
                case .wouldBlock: return
                }
            } catch {
                reactor.logger.warning("accept failed", metadata: ["error": "\(error)"])
                if error.errno == 24 || error.errno == 23 { pauseAccepting() }  // EMFILE, ENFILE
                return
            }
        }
    }

    package func reactorWritable() {}
    package func reactorShutdown() {
        close()
    }

    package func reactorHangup() {}

    private func pauseAccepting() {
        guard let registration else { return }
        reactor.setInterest(registration, .none)
        reactor.schedule(afterMilliseconds: 100) { [weak self] in
            guard let self, let registration = self.registration else { return }
            self.reactor.setInterest(registration, .read)
        }
    }
}
