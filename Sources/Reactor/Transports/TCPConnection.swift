import Logging

/// A non-blocking TCP stream on the reactor with an output queue and write backpressure.
///
/// Writes are queued and sent in the loop's flush phase, so several responses produced in one
/// tick (a pipeline) leave in one `send`. Write interest is set only while output is pending.
package final class TCPConnection: ByteStream, IOHandler, FlushTarget {
    package let peerAddress: String
    package let id: UInt64
    package weak var delegate: (any ByteStreamDelegate)?
    /// Above this many queued bytes the owner should stop producing (`isWritable` turns false).
    package var highWaterMark = 1 << 20

    private unowned let reactor: Reactor
    private let fd: CInt
    private var registration: IORegistration?
    private var output: [UInt8] = []
    private var outputStart = 0
    private var flushScheduled = false
    private var readingPaused = false
    private var closeAfterFlush = false
    private var wasAboveHighWater = false
    private var readEOF = false
    /// Set when the kernel refused more output: only then is write interest needed, since the
    /// flush phase writes freshly queued output without waiting for readiness.
    private var waitingForWritable = false
    private static let readChunk = 64 * 1024
    private var readBuffer = [UInt8](repeating: 0, count: TCPConnection.readChunk)

    package init(reactor: Reactor, socket: AcceptedSocket, id: UInt64) throws {
        self.reactor = reactor
        self.fd = socket.fd
        self.peerAddress = socket.peerAddress
        self.id = id
        do {
            registration = try reactor.register(fd: fd, interest: .read, handler: self)
        } catch {
            Socket.close(socket.fd)
            throw error
        }
    }

    deinit {
        assert(registration == nil, "TCPConnection dropped without close()")
    }

    package var isOpen: Bool { registration != nil }
    /// Bytes queued but not yet accepted by the kernel.
    package var pendingOutputBytes: Int { output.count - outputStart }
    /// False while the queued output is above the high-water mark.
    package var isWritable: Bool { pendingOutputBytes < highWaterMark }

    /// Queues bytes for sending in this tick's flush phase.
    package func write(_ bytes: [UInt8]) {
        guard registration != nil, !closeAfterFlush else { return }
        if output.isEmpty { output = bytes } else { output.append(contentsOf: bytes) }
        if pendingOutputBytes >= highWaterMark { wasAboveHighWater = true }
        requestFlush()
    }

    /// Stops or resumes reading (backpressure from the owner).
    package func setReading(_ enabled: Bool) {
        readingPaused = !enabled
        updateInterest()
    }

    /// Sends what is queued, then closes.
    package func closeAfterWriting() {
        guard registration != nil else { return }
        closeAfterFlush = true
        if pendingOutputBytes == 0 { close(error: nil) } else { requestFlush() }
    }

    /// Closes at once, dropping queued output.
    package func close(error: ReactorError? = nil) {
        guard let registration else { return }
        reactor.deregister(registration)
        Socket.close(fd)
        self.registration = nil
        output = []
        outputStart = 0
        delegate?.streamDidClose(self, error: error)
    }

    // MARK: - Reactor callbacks

    package func reactorReadable() {
        // Bound the bytes read per wake-up so one fast client cannot monopolise the loop.
        var budget = 4
        while budget > 0, registration != nil, !readingPaused, !readEOF {
            budget -= 1
            let result: IOResult<Int>
            do {
                result = try readBuffer.withUnsafeMutableBytes { try Socket.read(fd, into: $0) }
            } catch {
                close(error: error as? ReactorError)
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                readEOF = true
                updateInterest()
                delegate?.streamDidReadEOF(self)
                return
            case .processed(let count):
                readBuffer.withUnsafeBytes { delegate?.stream(self, didRead: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                if count < TCPConnection.readChunk { return }
            }
        }
    }

    package func reactorWritable() {
        reactorFlush()
    }

    package func reactorShutdown() {
        close(error: .stopped)
    }

    package func reactorHangup() {
        if pendingOutputBytes > 0 { reactorFlush() }
        close(error: .closed)
    }

    package func reactorFlush() {
        flushScheduled = false
        guard registration != nil else { return }
        while pendingOutputBytes > 0 {
            let result: IOResult<Int>
            do {
                result = try output.withUnsafeBytes { try Socket.write(fd, from: UnsafeRawBufferPointer(rebasing: $0[outputStart...])) }
            } catch {
                close(error: error as? ReactorError)
                return
            }
            guard case .processed(let count) = result else {
                waitingForWritable = true
                break
            }
            outputStart += count
        }
        if pendingOutputBytes == 0 { waitingForWritable = false }
        if pendingOutputBytes == 0 {
            output.removeAll(keepingCapacity: output.capacity <= 1 << 16)
            outputStart = 0
            if closeAfterFlush {
                close(error: nil)
                return
            }
            if wasAboveHighWater {
                wasAboveHighWater = false
                delegate?.streamDidDrain(self)
            }
        } else if outputStart > output.count / 2 {
            output.removeFirst(outputStart)
            outputStart = 0
        }
        updateInterest()
    }

    private func requestFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        reactor.scheduleFlush(self)
    }

    private func updateInterest() {
        guard let registration else { return }
        var interest: IOInterest = []
        if !readingPaused && !readEOF { interest.insert(.read) }
        if waitingForWritable { interest.insert(.write) }
        reactor.setInterest(registration, interest)
    }
}
