/// The read end of a pipe on the reactor: bytes and end-of-file are handed to closures, on the
/// reactor thread. Reads are bounded per wake-up so one chatty child cannot monopolise the loop.
package final class PipeReader: IOHandler {
    private unowned let reactor: Reactor
    private let fd: CInt
    private var registration: IORegistration?
    private let onBytes: (UnsafeRawBufferPointer) -> Void
    private let onEnd: (ReactorError?) -> Void
    private static let chunk = 64 * 1024
    private var buffer = [UInt8](repeating: 0, count: PipeReader.chunk)

    /// Takes ownership of `fd` (non-blocking); it is closed by `close()` or at end of file.
    package init(
        reactor: Reactor, fd: CInt, onBytes: @escaping (UnsafeRawBufferPointer) -> Void,
        onEnd: @escaping (ReactorError?) -> Void
    ) throws {
        self.reactor = reactor
        self.fd = fd
        self.onBytes = onBytes
        self.onEnd = onEnd
        do {
            registration = try reactor.register(fd: fd, interest: .read, handler: self)
        } catch {
            PipeIO.close(fd)
            throw error
        }
    }

    deinit {
        assert(registration == nil, "PipeReader dropped without close()")
    }

    package var isOpen: Bool { registration != nil }

    /// Stops reading and closes the descriptor; `onEnd` is not called.
    package func close() {
        guard let registration else { return }
        reactor.deregister(registration)
        PipeIO.close(fd)
        self.registration = nil
    }

    package func reactorReadable() {
        var budget = 16
        while budget > 0, registration != nil {
            budget -= 1
            let result: IOResult<Int>
            do {
                result = try buffer.withUnsafeMutableBytes { try PipeIO.read(fd, into: $0) }
            } catch {
                return end(error as? ReactorError)
            }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                return end(nil)
            case .processed(let count):
                buffer.withUnsafeBytes { onBytes(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            }
        }
    }

    package func reactorWritable() {}

    package func reactorHangup() {
        // The writer closed: drain what is left, then report the end.
        reactorReadable()
        if registration != nil { end(nil) }
    }

    package func reactorShutdown() {
        close()
    }

    private func end(_ error: ReactorError?) {
        guard registration != nil else { return }
        close()
        onEnd(error)
    }
}
