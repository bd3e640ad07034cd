internal import Glibc

/// A request body that stays on disk: `length` bytes of the file at `path` from `offset` on, read
/// in chunks while the socket drains instead of being held in memory.
package struct HTTPBodyFile: Sendable, Equatable {
    package var path: String
    package var offset: Int
    package var length: Int

    package init(path: String, offset: Int = 0, length: Int) {
        self.path = path
        self.offset = offset
        self.length = length
    }
}

/// An open file descriptor carried between the jobs of one transfer on one worker lane.
///
/// The lane is a serial queue and every job touching `descriptor` runs on it, one after the
/// other, so the descriptor is never used from two threads at once.
final class LaneFile: @unchecked Sendable {
    var descriptor: CInt = -1

    func closeIfOpen() {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
        descriptor = -1
    }

    // A descriptor nobody closed (a response file whose connection went first) goes with the
    // last reference; the lane jobs hold one, so none is still reading it.
    deinit { closeIfOpen() }
}

/// File I/O of the streaming transfers, run on a worker lane: a regular file read or write may
/// wait on the disk, which the reactor thread never does.
enum LaneFileIO {
    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    static func read(_ file: LaneFile, path: String, offset: Int, count: Int) throws(ReactorError) -> [UInt8] {
        if file.descriptor < 0 {
            file.descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            if file.descriptor < 0 { throw ReactorError.syscall("open \(path)", errno: errno) }
        }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                pread(file.descriptor, buffer.baseAddress! + filled, count - filled, off_t(offset + filled))
            }
            if got < 0, errno == EINTR { continue }
            if got < 0 { throw ReactorError.syscall("read \(path)", errno: errno) }
            if got == 0 { break }
            filled += got
        }
        if filled < count { bytes.removeSubrange(filled...) }
        return bytes
    }

    /// Appends all of `bytes`, creating (or emptying) the file on the first write.
    static func append(_ file: LaneFile, path: String, _ bytes: [UInt8]) throws(ReactorError) {
        if file.descriptor < 0 {
            file.descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            if file.descriptor < 0 { throw ReactorError.syscall("create \(path)", errno: errno) }
        }
        var written = 0
        while written < bytes.count {
            let put = bytes.withUnsafeBytes { buffer in
                Glibc.write(file.descriptor, buffer.baseAddress! + written, bytes.count - written)
            }
            if put < 0, errno == EINTR { continue }
            if put < 0 { throw ReactorError.syscall("write \(path)", errno: errno) }
            written += put
        }
    }
}

/// Writes a file body to a connection (a client's request body, a server's response body): one
/// chunk is read ahead on a worker lane while the socket is writable, and reading waits for
/// `streamDidDrain` while the socket's queue is above its high-water mark. Memory stays at one
/// chunk plus the transport's queue, whatever the size. Confined to the reactor thread.
final class HTTPFileBodyPump {
    static let chunkSize = 256 << 10

    private let handle: ReactorHandle
    private let lane: WorkerLane
    private let transport: any ByteStream
    private let body: HTTPBodyFile
    private let file: LaneFile
    private let onFailure: (ReactorError) -> Void
    /// Called once the last chunk is queued on the transport.
    var onComplete: () -> Void = {}
    private var offset = 0
    private var reading = false
    private var stopped = false

    /// - Parameter file: an already open descriptor to read, or a fresh one that opens `body.path`.
    init(
        reactor: Reactor, transport: any ByteStream, body: HTTPBodyFile, file: LaneFile = LaneFile(),
        onFailure: @escaping (ReactorError) -> Void
    ) {
        self.file = file
        self.handle = reactor.handle
        self.lane = reactor.workers.anyLane()
        self.transport = transport
        self.body = body
        self.onFailure = onFailure
    }

    /// True once every byte has been queued on the transport.
    var isComplete: Bool { offset >= body.length }

    /// Reads and writes the next chunk if the socket can take it; call again on drain.
    func pump() {
        guard !stopped, !reading, !isComplete, transport.isOpen, transport.isWritable else { return }
        reading = true
        let count = min(Self.chunkSize, body.length - offset)
        let (file, path, position) = (self.file, body.path, body.offset + offset)
        let bound = ReactorBound(handle: handle, self)
        lane.submit({ try LaneFileIO.read(file, path: path, offset: position, count: count) }) { [handle] result in
            handle.complete { _ in bound.value.received(result, expected: count) }
        }
    }

    /// Stops reading and closes the file once any read in flight is done.
    func stop() {
        stopped = true
        let file = self.file
        lane.submit({ file.closeIfOpen() }, completion: { _ in })
    }

    private func received(_ result: Result<[UInt8], any Error>, expected: Int) {
        reading = false
        guard !stopped else { return }
        switch result {
        case .success(let bytes) where bytes.count == expected:
            offset += bytes.count
            transport.write(bytes)
            if isComplete {
                stop()
                onComplete()
            } else {
                pump()
            }
        case .success:
            stop()
            onFailure(.protocolViolation("body file \(body.path) is shorter than \(body.length) bytes"))
        case .failure(let error):
            stop()
            onFailure(error as? ReactorError ?? .closed)
        }
    }
}
