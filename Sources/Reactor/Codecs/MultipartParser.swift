/// An incremental `multipart/form-data` parser (RFC 7578 over RFC 2046's framing).
///
/// Feed it the body as it arrives with `append`, call `finish` once the body is complete, and
/// call `next()` after each until it returns nil (more bytes needed). A form comes out as
/// `.partStart`, `.partData`*, `.partEnd` for each part, then `.end`. Part data is handed out as
/// soon as it provably precedes the next delimiter, so the parser holds at most a delimiter's
/// length of a part plus one part's header block, whatever the part's size: the caller decides
/// where the bytes go (memory or a spool file).
///
/// A preamble before the first delimiter and an epilogue after the closing one are skipped, as
/// is transport padding after a delimiter; anything else out of shape is a `.failure` with a
/// reason for the client, after which the parser returns that failure forever.
package struct MultipartParser: Sendable {
    /// What a part's headers say about it.
    package struct PartHead: Sendable, Equatable {
        package var name: String
        /// The file name a file part declares, its directories cut off; nil for a text field.
        package var filename: String?
        package var contentType: String?

        package init(name: String, filename: String? = nil, contentType: String? = nil) {
            self.name = name
            self.filename = filename
            self.contentType = contentType
        }
    }

    package enum Event: Sendable, Equatable {
        case partStart(PartHead)
        /// Some (never empty) bytes of the current part.
        case partData([UInt8])
        case partEnd
        /// The closing delimiter came and the body is over.
        case end
        /// The body is not a well-formed form; the reason is for the client.
        case failure(String)
    }

    /// More parts than any media send has fields; a body made of thousands of tiny parts is refused.
    package static let maxParts = 64
    /// The header block of one part (`Content-Disposition`, `Content-Type`), line ends included.
    package static let maxPartHeaderBytes = 8 * 1_024

    private enum State: Sendable {
        case preamble
        /// Right after a delimiter: `--` closes the form, padding and CRLF open a part. `padded`
        /// once padding was seen: a `--` after it is no closing delimiter, whatever the reads.
        case afterDelimiter(padded: Bool)
        case headers
        case body
        case epilogue
        case done
        case failed(String)
    }

    /// CRLF `--` boundary: what ends a part's data.
    private let separator: [UInt8]
    private var state = State.preamble
    /// Received bytes; `buffer[..<readIndex]` is consumed and dropped now and then.
    private var buffer: [UInt8]
    private var readIndex = 0
    private var inputEnded = false
    private var partCount = 0
    /// Where the search for the header block's next CRLF resumes.
    private var headerScanIndex = 0
    private var headerLines: [[UInt8]] = []
    private var headerBytes = 0

    /// A parser for a form framed by `boundary` (1 to 70 characters, see `boundary(of:)`).
    package init(boundary: String) {
        separator = [0x0D, 0x0A, 0x2D, 0x2D] + Array(boundary.utf8)
        // The first delimiter may open the body with no line break before it; a CRLF put in
        // front lets one search find it there and after a preamble alike.
        buffer = [0x0D, 0x0A]
    }

    /// Adds the next bytes of the body. Bytes after a failure or after `finish` are dropped.
    package mutating func append(_ bytes: some Collection<UInt8>) {
        guard !inputEnded, !bytes.isEmpty else { return }
        if case .failed = state { return }
        if case .done = state { return }
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Says the body is complete: a form not closed by then is truncated.
    package mutating func finish() {
        inputEnded = true
    }

    /// The next event, or nil when more bytes are needed (or the form is over).
    package mutating func next() -> Event? {
        while true {
            switch state {
            case .done:
                return nil
            case .failed(let reason):
                return .failure(reason)
            case .epilogue:
                readIndex = buffer.count
                guard inputEnded else { return nil }
                state = .done
                return .end
            case .preamble:
                if let found = find(separator) {
                    readIndex = found + separator.count
                    state = .afterDelimiter(padded: false)
                    continue
                }
                guard !inputEnded else { return fail("no part starts with the boundary") }
                readIndex = max(readIndex, buffer.count - (separator.count - 1))
                return nil
            case .afterDelimiter(let padded):
                switch delimiterLine(padded: padded) {
                case .needMore: return inputEnded ? fail("the closing boundary is missing") : nil
                case .failed(let reason): return fail(reason)
                case .proceed: continue
                }
            case .headers:
                guard let event = headerBlock() else { return inputEnded ? fail(Self.headersTooLong) : nil }
                return event
            case .body:
                return bodyEvent()
            }
        }
    }

    private enum Step { case needMore, proceed, failed(String) }

    /// After a delimiter: `--` (the closing delimiter), or optional spaces and tabs, then CRLF.
    private mutating func delimiterLine(padded: Bool) -> Step {
        guard readIndex < buffer.count else { return .needMore }
        if !padded, buffer[readIndex] == 0x2D {
            guard readIndex + 1 < buffer.count else { return .needMore }
            guard buffer[readIndex + 1] == 0x2D else { return .failed("a boundary line does not end in CRLF") }
            readIndex += 2
            state = .epilogue
            return .proceed
        }
        while readIndex < buffer.count, buffer[readIndex] == 0x20 || buffer[readIndex] == 0x09 {
            readIndex += 1
            state = .afterDelimiter(padded: true)
        }
        guard readIndex < buffer.count else { return .needMore }
        guard buffer[readIndex] == 0x0D else { return .failed("a boundary line does not end in CRLF") }
        guard readIndex + 1 < buffer.count else { return .needMore }
        guard buffer[readIndex + 1] == 0x0A else { return .failed("a boundary line does not end in CRLF") }
        readIndex += 2
        state = .headers
        headerScanIndex = readIndex
        headerLines = []
        headerBytes = 0
        return .proceed
    }

    static let headersTooLong = "a part's headers do not end (or are over \(maxPartHeaderBytes) bytes)"

    /// Collects header lines up to the empty one; nil when more bytes are needed.
    private mutating func headerBlock() -> Event? {
        while true {
            guard let lineEnd = find([0x0D, 0x0A], from: headerScanIndex) else {
                headerScanIndex = max(readIndex, buffer.count - 1)
                if headerBytes + (buffer.count - readIndex) > Self.maxPartHeaderBytes + 2 { return fail(Self.headersTooLong) }
                return nil
            }
            headerBytes += lineEnd + 2 - readIndex
            guard headerBytes <= Self.maxPartHeaderBytes + 2 else { return fail(Self.headersTooLong) }
            let line = Array(buffer[readIndex..<lineEnd])
            readIndex = lineEnd + 2
            headerScanIndex = readIndex
            guard line.isEmpty else {
                headerLines.append(line)
                continue
            }
            switch Self.partHead(headerLines) {
            case .invalid(let reason):
                return fail(reason)
            case .head(let head):
                partCount += 1
                guard partCount <= Self.maxParts else { return fail("more than \(Self.maxParts) parts") }
                headerLines = []
                state = .body
                return .partStart(head)
            }
        }
    }

    /// Data up to the next delimiter, or the part's end once the delimiter is next.
    private mutating func bodyEvent() -> Event? {
        if let found = find(separator) {
            if found > readIndex {
                defer { readIndex = found }
                return .partData(Array(buffer[readIndex..<found]))
            }
            readIndex = found + separator.count
            state = .afterDelimiter(padded: false)
            return .partEnd
        }
        guard !inputEnded else { return fail("the closing boundary is missing") }
        // Everything but a tail that could still be the start of the delimiter is the part's.
        let safe = buffer.count - (separator.count - 1)
        guard safe > readIndex else { return nil }
        defer { readIndex = safe }
        return .partData(Array(buffer[readIndex..<safe]))
    }

    private mutating func fail(_ reason: String) -> Event {
        state = .failed(reason)
        buffer = []
        readIndex = 0
        return .failure(reason)
    }

    /// The first occurrence of `needle` in the unconsumed bytes (from `start` on).
    private func find(_ needle: [UInt8], from start: Int? = nil) -> Int? {
        let from = start ?? readIndex
        guard buffer.count - from >= needle.count else { return nil }
        return buffer.withUnsafeBufferPointer { bytes -> Int? in
            needle.withUnsafeBufferPointer { pattern -> Int? in
                let first = pattern[0]
                var index = from
                let last = bytes.count - pattern.count
                while index <= last {
                    if bytes[index] == first {
                        var matched = 1
                        while matched < pattern.count, bytes[index + matched] == pattern[matched] { matched += 1 }
                        if matched == pattern.count { return index }
                    }
                    index += 1
                }
                return nil
            }
        }
    }

    /// Drops the consumed prefix once it is at least half the buffer (amortized O(1) per byte).
    private mutating func compact() {
        guard readIndex > 0, readIndex * 2 >= buffer.count else { return }
        buffer.removeSubrange(0..<readIndex)
        headerScanIndex = max(0, headerScanIndex - readIndex)
        readIndex = 0
    }
}
