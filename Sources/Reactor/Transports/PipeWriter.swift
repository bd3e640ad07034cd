/// The write end of a pipe on the reactor, with an output queue: writes are sent in the flush
/// phase and, when the pipe is full (64 KiB), resumed on writability. Large payloads (media in a
/// DevTools command) therefore never block the loop.
package final class PipeWriter: IOHandler, FlushTarget {
    private unowned let reactor: Reactor
    private let fd: CInt
    private var registration: IORegistration?
    private var output: [UInt8] = []
    private var outputStart = 0
    private var flushScheduled = false
    private var waitingForWritable = false
    private let onError: (ReactorError?) -> Void

    /// Takes ownership of `fd` (non-blocking). `onError` runs once when a write fails (the reader
    /// is gone: EPIPE) and the pipe has been closed.
    package init(reactor: Reactor, fd: CInt, onError: @escaping (ReactorError?) -> Void) throws {
        self.reactor = reactor
        self.fd = fd
        self.onError = onError
        // A write to a pipe whose reader died must be EPIPE, not a process-killing SIGPIPE.
        SignalFD.ignoreBrokenPipe()
        do {
            registration = try reactor.register(fd: fd, interest: .none, handler: self)
        } catch {
            PipeIO.close(fd)
            throw error
        }
    }

    deinit {
        assert(registration == nil, "PipeWriter dropped without close()")
    }

    package var isOpen: Bool { registration != nil }
    package var pendingOutputBytes: Int { output.count - outputStart }

    /// Queues `bytes` for this tick's flush phase.
    package func write(_ bytes: [UInt8]) {
        guard registration != nil else { return }
        if pendingOutputBytes == 0 {
            output = bytes
            outputStart = 0
        } else {
            output.append(contentsOf: bytes)
        }
        guard !flushScheduled, !waitingForWritable else { return }
        flushScheduled = true
        reactor.scheduleFlush(self)
    }

    /// Closes the descriptor at once, dropping queued output (the reader sees end of file).
    package func close() {
        guard let registration else { return }
        reactor.deregister(registration)
        PipeIO.close(fd)
        self.registration = nil
        output = []
        outputStart = 0
    }

    package func reactorFlush() {
        flushScheduled = false
        guard registration != nil else { return }
        while pendingOutputBytes > 0 {
            let result: IOResult<Int>
            do {
                result = try output.withUnsafeBytes { try PipeIO.write(fd, from: UnsafeRawBufferPointer(rebasing: $0[outputStart...])) }
            } catch {
                close()
                onError(error as? ReactorError)
                return
            }
            guard case .processed(let count) = result else { break }
            outputStart += count
        }
        if pendingOutputBytes == 0 {
            output.removeAll(keepingCapacity: output.capacity <= 1 << 16)
            outputStart = 0
        } else if outputStart > output.count / 2 {
            output.removeFirst(outputStart)
            outputStart = 0
        }
        waitingForWritable = pendingOutputBytes > 0
        if let registration { reactor.setInterest(registration, waitingForWritable ? .write : .none) }
    }

    package func reactorReadable() {}

    package func reactorWritable() {
        reactorFlush()
    }

    package func reactorHangup() {
        // EPOLLERR on a write end: the reader closed.
        close()
        onError(.closed)
    }

    package func reactorShutdown() {
        close()
    }
}
