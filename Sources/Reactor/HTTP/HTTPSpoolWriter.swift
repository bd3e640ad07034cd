internal import Glibc

/// Writes a response body to a spool file as it arrives, with backpressure: writes run on one
/// worker lane, one batch at a time, and while more than `highWater` bytes wait for the disk the
/// connection stops reading its socket (`onBehind`), resuming once they are written
/// (`onCaughtUp`). Memory stays near `highWater` plus one batch, whatever the body's size.
///
/// The file is created on the first write. On failure it is removed before the failure is
/// reported, so a caller that sees an error never finds a partial file. Reactor thread only.
final class HTTPSpoolWriter {
    /// Bytes gathered before a write is started.
    static let batchSize = 256 << 10
    /// Bytes waiting for the disk above which the socket is not read.
    static let highWater = 1 << 20

    let path: String
    private let handle: ReactorHandle
    private let lane: WorkerLane
    private let file = LaneFile()
    private var pending: [UInt8] = []
    private var writing = false
    private var paused = false
    private var failure: ReactorError?
    private var finishing: ((ReactorError?) -> Void)?
    private(set) var length = 0
    /// The socket should stop being read / may be read again.
    var onBehind: () -> Void = {}
    var onCaughtUp: () -> Void = {}
    /// A write failed while the body was still arriving.
    var onFailure: (ReactorError) -> Void = { _ in }

    init(reactor: Reactor, path: String) {
        self.path = path
        self.handle = reactor.handle
        self.lane = reactor.workers.anyLane()
    }

    /// Takes the next bytes of the body.
    func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, failure == nil else { return }
        length += bytes.count
        pending += bytes
        writeIfReady()
        if !paused, pending.count > Self.highWater {
            paused = true
            onBehind()
        }
    }

    /// Writes what is left and closes the file; `completion` gets nil when the file is complete,
    /// or the error after the file was removed.
    func finish(_ completion: @escaping (ReactorError?) -> Void) {
        if let failure { return abandon { completion(failure) } }
        finishing = completion
        writeIfReady()
    }

    /// Removes the file once any write in flight is done, then runs `completion`.
    func abandon(_ completion: @escaping () -> Void) {
        failure = failure ?? .closed
        pending = []
        finishing = nil
        let (file, path) = (self.file, self.path)
        let bound = ReactorBound(handle: handle, completion)
        lane.submit({
            file.closeIfOpen()
            _ = unlink(path)
        }) { [handle] _ in handle.complete { _ in bound.value() } }
    }

    private func writeIfReady() {
        guard !writing, failure == nil else { return }
        if pending.count < Self.batchSize, finishing == nil { return }
        if pending.isEmpty, let finishing { return close(finishing) }
        writing = true
        let batch = pending
        pending = []
        let (file, path) = (self.file, self.path)
        let bound = ReactorBound(handle: handle, self)
        lane.submit({ try LaneFileIO.append(file, path: path, batch) }) { [handle] result in
            handle.complete { _ in bound.value.wrote(result) }
        }
    }

    private func wrote(_ result: Result<Void, any Error>) {
        writing = false
        guard failure == nil else { return }
        if case .failure(let error) = result {
            failure = error as? ReactorError ?? .closed
            if let finishing { return abandon { finishing(self.failure) } }
            return onFailure(failure!)
        }
        if paused, pending.count <= Self.highWater / 2 {
            paused = false
            onCaughtUp()
        }
        writeIfReady()
    }

    /// Closes the complete file (creating it when the body was empty), then reports.
    private func close(_ completion: @escaping (ReactorError?) -> Void) {
        finishing = nil
        writing = true
        let (file, path) = (self.file, self.path)
        let bound = ReactorBound(handle: handle, completion)
        lane.submit({ () throws -> Void in
            do {
                if file.descriptor < 0 { try LaneFileIO.append(file, path: path, []) }
                file.closeIfOpen()
            } catch {
                file.closeIfOpen()
                _ = unlink(path)
                throw error
            }
        }) { [handle] result in
            handle.complete { _ in
                switch result {
                case .success: bound.value(nil)
                case .failure(let error): bound.value(error as? ReactorError ?? .closed)
                }
            }
        }
    }
}
