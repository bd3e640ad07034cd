/// Takes a `multipart/form-data` request body as it arrives: the incremental parser splits it
/// into parts, a small part stays in memory, and a large one goes to a spool file through an
/// `HTTPSpoolWriter` (disk writes on a worker lane). While a writer has more than its high-water
/// mark waiting for the disk, `onBehind` asks the connection to stop reading its socket, and
/// `onCaughtUp` lets it read again, so memory stays near a megabyte whatever the body's size.
///
/// A body that is not a well-formed form is read to its end and dropped (the connection stays
/// usable) and is reported as `.malformed`; any spool file it started is removed first. Files are
/// owned by the writers until the form is handed over, then by its `HTTPUploadFile`s; `abandon`
/// removes them when the request dies before that. Reactor thread only.
final class HTTPFormReceiver {
    /// A part stays in memory up to this size; a larger one goes to a spool file.
    static let memoryPartLimit = 256 << 10
    /// The in-memory parts of one form stay under this together; later ones go to spool files.
    static let memoryTotalLimit = 1 << 20

    private final class Part {
        let head: MultipartParser.PartHead
        var bytes: [UInt8] = []
        var writer: HTTPSpoolWriter?
        init(head: MultipartParser.PartHead) { self.head = head }
    }

    private let reactor: Reactor
    private let directory: String
    private var parser: MultipartParser?
    private var parts: [Part] = []
    private var current: Part?
    private var memoryBytes = 0
    private var writersBehind = 0
    private var writersFinishing = 0
    /// Spool files being removed after a refusal; the refusal is reported once they are gone.
    private var removing = 0
    /// Why the form will not be handed over; set once.
    private var refusal: HTTPStreamedForm?
    private var completion: ((HTTPStreamedForm) -> Void)?
    private var abandoned = false

    var onBehind: () -> Void = {}
    var onCaughtUp: () -> Void = {}

    /// A receiver for a form of `formType` (a `.form` parses, an `.invalid` refuses at once),
    /// spooling large parts into `directory`.
    init(reactor: Reactor, formType: MultipartParser.FormType, directory: String) {
        self.reactor = reactor
        self.directory = directory
        switch formType {
        case .form(let boundary): parser = MultipartParser(boundary: boundary)
        case .invalid(let message): refusal = .malformed(message)
        case .other: refusal = .malformed(MultipartParser.malformed("not a form"))
        }
    }

    /// True while a spool file is too far behind for more of the body to be read.
    var isBehind: Bool { writersBehind > 0 }

    /// Takes the next decoded bytes of the body.
    func append(_ bytes: [UInt8]) {
        guard refusal == nil, !abandoned, parser != nil else { return }
        parser!.append(bytes)
        drain()
    }

    /// The body is complete: `completion` gets the form once every spool file is written (or the
    /// refusal once every file is removed). Not called after `abandon`.
    func finish(_ completion: @escaping (HTTPStreamedForm) -> Void) {
        self.completion = completion
        if refusal == nil, parser != nil {
            parser!.finish()
            drain()
        }
        deliverIfDone()
    }

    /// The request died (connection closed, body over the limit, timeout): every spool file goes.
    func abandon() {
        guard !abandoned else { return }
        abandoned = true
        completion = nil
        removeFiles {}
    }

    private func drain() {
        while refusal == nil, let event = parser?.next() {
            switch event {
            case .partStart(let head):
                current = Part(head: head)
            case .partData(let bytes):
                add(bytes)
            case .partEnd:
                guard let part = current else { break }
                current = nil
                parts.append(part)
                if let writer = part.writer { finishWriting(writer) }
            case .end:
                parser = nil
            case .failure(let reason):
                refuse(.malformed(MultipartParser.malformed(reason)))
            }
        }
    }

    private func add(_ bytes: [UInt8]) {
        guard let part = current else { return }
        if let writer = part.writer { return writer.append(bytes) }
        let inMemory = part.bytes.count + bytes.count
        if inMemory <= Self.memoryPartLimit, memoryBytes + bytes.count <= Self.memoryTotalLimit {
            part.bytes += bytes
            memoryBytes += bytes.count
            return
        }
        let writer = HTTPSpoolWriter(reactor: reactor, path: HTTPUploadFile.freshPath(in: directory))
        // Weak: a writer's lane work may report after the request (and this receiver) is gone.
        writer.onBehind = { [weak self] in self?.writerBehind() }
        writer.onCaughtUp = { [weak self] in self?.caughtUp() }
        writer.onFailure = { [weak self] error in self?.refuse(.unstored("an uploaded part could not be written: \(error)")) }
        part.writer = writer
        memoryBytes -= part.bytes.count
        writer.append(part.bytes + bytes)
        part.bytes = []
    }

    private func writerBehind() {
        writersBehind += 1
        if writersBehind == 1 { onBehind() }
    }

    private func caughtUp() {
        guard writersBehind > 0 else { return }
        writersBehind -= 1
        if writersBehind == 0 { onCaughtUp() }
    }

    private func finishWriting(_ writer: HTTPSpoolWriter) {
        writersFinishing += 1
        writer.finish { [weak self] error in
            guard let self else { return }
            writersFinishing -= 1
            if let error, refusal == nil { refuse(.unstored("an uploaded part could not be written: \(error)")) }
            deliverIfDone()
        }
    }

    /// Stops taking the body: the rest is read and dropped, the files go, the socket is read again.
    private func refuse(_ outcome: HTTPStreamedForm) {
        guard refusal == nil else { return }
        refusal = outcome
        parser = nil
        if writersBehind > 0 {
            writersBehind = 0
            onCaughtUp()
        }
        removeFiles { [weak self] in self?.deliverIfDone() }
    }

    /// Abandons every writer (each removes its file on its lane once its writes are done).
    private func removeFiles(_ done: @escaping () -> Void) {
        let writers = (parts + [current].compactMap { $0 }).compactMap(\.writer)
        parts = []
        current = nil
        memoryBytes = 0
        guard !writers.isEmpty else { return done() }
        removing += writers.count
        for writer in writers {
            writer.abandon { [weak self] in
                guard let self else { return }
                removing -= 1
                if removing == 0 { done() }
            }
        }
    }

    private func deliverIfDone() {
        guard let completion, !abandoned, removing == 0 else { return }
        if let refusal {
            self.completion = nil
            return completion(refusal)
        }
        guard parser == nil, writersFinishing == 0 else { return }
        self.completion = nil
        let lane = reactor.workers.anyLane()
        let form = parts.map { part in
            let content: HTTPFormPart.Content
            if let writer = part.writer {
                content = .file(HTTPUploadFile(path: writer.path, length: writer.length, lane: lane))
            } else {
                content = .bytes(part.bytes)
            }
            return HTTPFormPart(head: part.head, content: content)
        }
        parts = []
        completion(.parts(form))
    }
}
