/// An incremental, strict HTTP/1.1 request parser (RFC 9112).
///
/// Feed it whatever the socket delivered with `append`, then call `next()` until it returns nil
/// (more bytes needed). Requests come out as `.head`, `.body`*, `.end`; pipelined requests simply
/// follow one another. The parser never blocks and never rescans bytes it has already searched, so
/// a request trickling in one byte at a time still costs linear time, not quadratic.
///
/// It is deliberately strict about framing (duplicate or conflicting lengths, obs-fold, stray CR,
/// odd transfer codings) because a lenient parser behind a proxy that reads the same bytes
/// differently is how request smuggling happens. Any violation turns the parser into a dead
/// state that keeps returning the same `.failure`.
package struct HTTPRequestParser: Sendable {
    /// Size limits that protect the server from oversized or abusive requests.
    package struct Limits: Sendable {
        /// Longest accepted request line, CRLF excluded (431 beyond).
        package var maxRequestLineBytes: Int
        /// Longest accepted head: request line, fields and the terminating empty line (431 beyond).
        /// Trailer sections of chunked bodies get the same budget.
        package var maxHeaderBytes: Int
        /// Most header fields accepted in one head (431 beyond).
        package var maxHeaderCount: Int
        /// Largest accepted body, declared or decoded (413 beyond).
        package var maxBodyBytes: Int

        /// Limits with conservative defaults suitable for a JSON API.
        package init(
            maxRequestLineBytes: Int = 8192, maxHeaderBytes: Int = 32768, maxHeaderCount: Int = 100,
            maxBodyBytes: Int = 25 * 1024 * 1024
        ) {
            self.maxRequestLineBytes = maxRequestLineBytes
            self.maxHeaderBytes = maxHeaderBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxBodyBytes = maxBodyBytes
        }
    }

    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case failed(HTTPParseError)
    }

    /// The limits this parser enforces.
    package let limits: Limits

    private var state: State = .head
    /// Received bytes; `buffer[..<readIndex]` is consumed and only dropped now and then.
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Where the next LF search starts, so bytes are never searched twice.
    private var scanIndex = 0
    /// Start of the head line currently being scanned.
    private var lineStart = 0
    /// Complete lines seen so far in the current head (request line included).
    private var headLineCount = 0
    /// Decoded bytes of the current chunked body, for `maxBodyBytes`.
    private var chunkedBodyBytes = 0
    private var trailerBytes = 0
    private var trailerCount = 0

    /// Largest buffer capacity kept across requests once everything has been consumed.
    private static let retainedCapacity = 64 * 1024
    /// A chunk-size line only carries hex digits plus extensions we ignore; a longer one is abuse.
    private static let maxChunkSizeLineBytes = 4096

    /// A parser expecting the first byte of a connection.
    package init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Bytes received but not yet turned into events.
    package var bufferedByteCount: Int { buffer.count - readIndex }

    /// Hands over the bytes received after the last complete request (a protocol upgrade:
    /// they belong to the new protocol) and leaves the parser empty.
    package mutating func takeBufferedBytes() -> [UInt8] {
        let rest = Array(buffer[readIndex...])
        buffer.removeAll()
        readIndex = 0
        scanIndex = 0
        lineStart = 0
        return rest
    }

    /// Between requests with nothing buffered: closing the connection now loses nothing.
    package var isIdle: Bool {
        if case .head = state { return readIndex == buffer.count }
        return false
    }

    /// Part of a request has arrived but its `.end` has not been returned yet (a timeout now
    /// deserves a 408). False once the parser has failed.
    package var isMidRequest: Bool {
        switch state {
        case .head: return readIndex < buffer.count
        case .failed: return false
        default: return true
        }
    }

    /// Adds received bytes. Bytes arriving after a failure are dropped.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty, !isFailed else { return }
        compactIfWorthwhile()
        bytes.withMemoryRebound(to: UInt8.self) { buffer.append(contentsOf: $0) }
    }

    /// Adds received bytes. Bytes arriving after a failure are dropped.
    package mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, !isFailed else { return }
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    /// The next event, or nil when more bytes are needed to make progress.
    package mutating func next() -> HTTPParseEvent? {
        while true {
            switch state {
            case .failed(let error):
                return .failure(error)
            case .head:
                return nextHead()
            case .fixedBody(let remaining):
                if remaining == 0 { return finishRequest() }
                guard let bytes = take(upTo: remaining) else { return nil }
                state = .fixedBody(remaining: remaining - bytes.count)
                return .body(bytes)
            case .chunkSizeLine:
                let range: Range<Int>
                let tooLong = HTTPParseError.malformed("chunk size line too long")
                switch nextStrictLine(maxBytes: Self.maxChunkSizeLineBytes, tooLong: tooLong) {
                case .line(let line): range = line
                case .failed(let error): return fail(error)
                case .needMore, .proceed: return nil
                }
                let size = withBytes(range, Self.parseChunkSize)
                consume(through: range.upperBound + 2)
                switch size {
                case .failure(let error):
                    return fail(error)
                case .success(0):
                    trailerBytes = 0
                    trailerCount = 0
                    state = .trailers
                case .success(let size):
                    // Refuse before buffering any of the chunk: the declared size already tells.
                    guard size <= limits.maxBodyBytes - chunkedBodyBytes else { return fail(.payloadTooLarge) }
                    chunkedBodyBytes += size
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                guard let bytes = take(upTo: remaining) else { return nil }
                state = bytes.count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - bytes.count)
                return .body(bytes)
            case .chunkDataEnd:
                // Exactly CRLF: a lone LF here is a known desync vector between proxies.
                guard bufferedByteCount >= 2 else {
                    if bufferedByteCount == 1, buffer[readIndex] != HTTPSyntax.cr {
                        return fail(.malformed("chunk data not followed by CRLF"))
                    }
                    return nil
                }
                guard buffer[readIndex] == HTTPSyntax.cr, buffer[readIndex + 1] == HTTPSyntax.lf else {
                    return fail(.malformed("chunk data not followed by CRLF"))
                }
                consume(through: readIndex + 2)
                state = .chunkSizeLine
            case .trailers:
                let budget = limits.maxHeaderBytes - trailerBytes
                let range: Range<Int>
                switch nextStrictLine(maxBytes: budget, tooLong: .requestHeaderFieldsTooLarge) {
                case .line(let line): range = line
                case .failed(let error): return fail(error)
                case .needMore, .proceed: return nil
                }
                if range.isEmpty {
                    consume(through: range.upperBound + 2)
                    return finishRequest()
                }
                trailerBytes += range.count + 2
                trailerCount += 1
                guard trailerCount <= limits.maxHeaderCount else { return fail(.requestHeaderFieldsTooLarge) }
                // Trailers are validated like header fields but dropped: nothing downstream uses
                // them and merging them into the head would let a body smuggle headers in.
                if let error = withBytes(range, Self.validateTrailerField) { return fail(error) }
                consume(through: range.upperBound + 2)
            }
        }
    }

    // MARK: - Head

    private mutating func nextHead() -> HTTPParseEvent? {
        if headLineCount == 0 && scanIndex == readIndex {
            switch skipLeadingEmptyLines() {
            case .proceed, .line: break
            case .needMore: return nil
            case .failed(let error): return fail(error)
            }
        }
        let end = buffer.count
        let limits = self.limits
        while true {
            guard let lf = firstLineFeed(from: scanIndex) else { break }
            var contentEnd = lf
            if contentEnd > lineStart && buffer[contentEnd - 1] == HTTPSyntax.cr { contentEnd -= 1 }
            scanIndex = lf + 1
            if lf + 1 - readIndex > limits.maxHeaderBytes { return fail(.requestHeaderFieldsTooLarge) }
            if headLineCount == 0 {
                if contentEnd - lineStart > limits.maxRequestLineBytes { return fail(.requestHeaderFieldsTooLarge) }
            } else if contentEnd == lineStart {
                return completeHead(end: lf + 1)
            } else if headLineCount > limits.maxHeaderCount {
                return fail(.requestHeaderFieldsTooLarge)
            }
            headLineCount += 1
            lineStart = lf + 1
        }
        scanIndex = end
        // Fail on an unterminated request line as soon as it is provably too long, instead of
        // buffering it up to the head limit.
        if headLineCount == 0 && unterminatedLineExceeds(limits.maxRequestLineBytes, from: lineStart) {
            return fail(.requestHeaderFieldsTooLarge)
        }
        if end - readIndex > limits.maxHeaderBytes { return fail(.requestHeaderFieldsTooLarge) }
        return nil
    }

    /// RFC 9112 §2.2: a server SHOULD ignore empty lines received before the request line (old
    /// clients add a CRLF after a POST body). A CR not followed by LF is still an error.
    private mutating func skipLeadingEmptyLines() -> LineOutcome {
        var index = readIndex
        defer { consume(through: index) }
        while index < buffer.count {
            if buffer[index] == HTTPSyntax.lf {
                index += 1
            } else if buffer[index] == HTTPSyntax.cr {
                // A trailing CR may still become CRLF; scanning it as a request line would not.
                guard index + 1 < buffer.count else { return .needMore }
                guard buffer[index + 1] == HTTPSyntax.lf else {
                    return .failed(.malformed("bare CR before request line"))
                }
                index += 2
            } else {
                return .proceed
            }
        }
        return .needMore
    }

    private mutating func completeHead(end: Int) -> HTTPParseEvent {
        let lineCount = headLineCount
        let maxBodyBytes = limits.maxBodyBytes
        let parsed = withBytes(readIndex..<end) {
            Self.parseHead($0, lineCount: lineCount, maxBodyBytes: maxBodyBytes)
        }
        switch parsed {
        case .failure(let error):
            return fail(error)
        case .success(let head):
            consume(through: end)
            headLineCount = 0
            if head.isChunked {
                chunkedBodyBytes = 0
                state = .chunkSizeLine
            } else {
                state = .fixedBody(remaining: head.contentLength ?? 0)
            }
            return .head(head)
        }
    }

    // MARK: - Buffer management

    private var isFailed: Bool {
        if case .failed = state { return true }
        return false
    }

    private mutating func fail(_ error: HTTPParseError) -> HTTPParseEvent {
        state = .failed(error)
        // Nothing will ever be read again: give the memory back now.
        buffer = []
        readIndex = 0
        scanIndex = 0
        lineStart = 0
        return .failure(error)
    }

    private mutating func finishRequest() -> HTTPParseEvent {
        state = .head
        headLineCount = 0
        return .end
    }

    /// Marks everything before `index` as consumed and restarts line scanning there.
    private mutating func consume(through index: Int) {
        readIndex = index
        scanIndex = index
        lineStart = index
    }

    /// Up to `limit` buffered bytes as a body chunk, or nil when nothing is buffered.
    private mutating func take(upTo limit: Int) -> [UInt8]? {
        let count = min(bufferedByteCount, limit)
        guard count > 0 else { return nil }
        let bytes = Array(buffer[readIndex..<readIndex + count])
        consume(through: readIndex + count)
        return bytes
    }

    /// Result of the line-level helpers; they report errors, the caller moves to `.failed`.
    private enum LineOutcome {
        /// Wait for more bytes.
        case needMore
        /// Leading empty lines are skipped and a request line starts at `readIndex`.
        case proceed
        case failed(HTTPParseError)
        /// Content of a complete line, terminator excluded.
        case line(Range<Int>)
    }

    /// The next CRLF-terminated line of the chunked framing; `.failed` on a bare LF or a line
    /// longer than `maxBytes`. Bare LF is accepted in the head but not here: chunk framing is
    /// where parsers disagreeing about line ends lead to smuggling.
    private mutating func nextStrictLine(maxBytes: Int, tooLong: HTTPParseError) -> LineOutcome {
        let start = readIndex
        guard let lf = firstLineFeed(from: scanIndex) else {
            scanIndex = buffer.count
            return unterminatedLineExceeds(maxBytes, from: start) ? .failed(tooLong) : .needMore
        }
        guard lf > start, buffer[lf - 1] == HTTPSyntax.cr else {
            return .failed(.malformed("line in chunked body not terminated by CRLF"))
        }
        guard lf - 1 - start <= maxBytes else { return .failed(tooLong) }
        return .line(start..<lf - 1)
    }

    /// Runs `body` over `buffer[range]` without copying.
    private func withBytes<Result>(_ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        buffer.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// Index of the first LF at or after `start`, or nil.
    private func firstLineFeed(from start: Int) -> Int? {
        buffer.withUnsafeBufferPointer { HTTPSyntax.firstLineFeed(in: $0, from: start, to: $0.count) }
    }

    /// Whether the unterminated line from `start` to the end of the buffer already has more than
    /// `maxBytes` of content; a final CR may still be the start of its CRLF and is not counted.
    private func unterminatedLineExceeds(_ maxBytes: Int, from start: Int) -> Bool {
        var length = buffer.count - start
        if length > 0 && buffer[buffer.count - 1] == HTTPSyntax.cr { length -= 1 }
        return length > maxBytes
    }

    /// Drops the consumed prefix when that is cheap relative to the bytes already consumed:
    /// everything when all is consumed, otherwise only once the dead prefix is at least half the
    /// buffer, so each byte is moved at most a constant number of times (amortized O(1)).
    private mutating func compactIfWorthwhile() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            // Keep a modest buffer for the next request, but let one huge upload's storage go:
            // an idle keep-alive connection should not pin megabytes.
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedCapacity)
        } else if readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
        } else {
            return
        }
        scanIndex -= readIndex
        lineStart -= readIndex
        readIndex = 0
    }
}
