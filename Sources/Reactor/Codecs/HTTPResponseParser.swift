/// An incremental HTTP/1.1 response parser for the client side: status line, headers, and a
/// body framed by Content-Length, chunked coding, or the end of the connection.
///
/// Interim 1xx responses are skipped. The body is collected whole up to `maxBodyBytes`; larger
/// bodies fail rather than grow without bound. A caller that streams the body elsewhere takes
/// what has arrived with `takeBody()` after each `append`; the cap still counts every byte.
package struct HTTPResponseParser: Sendable {
    /// A complete response head.
    package struct Head: Sendable, Equatable {
        package var status: Int
        package var headers: HTTPHeaders
        /// False when the server said `connection: close` (or spoke HTTP/1.0 without keep-alive).
        package var keepAlive: Bool
    }

    package enum Outcome: Sendable, Equatable {
        case complete(Head, [UInt8])
        case failure(String)
    }

    private enum Framing: Sendable {
        case length(Int)
        case chunkSize
        case chunkData(Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    private let maxHeaderBytes: Int
    private let maxBodyBytes: Int
    private let bodyless: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var head: Head?
    private var framing: Framing?
    private var body: [UInt8] = []
    /// Body bytes seen so far, taken or not: what `maxBodyBytes` limits.
    private var bodyCount = 0
    private var outcome: Outcome?

    /// - Parameter bodyless: the request was HEAD, so no response carries a body.
    package init(maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int, bodyless: Bool = false) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.bodyless = bodyless
    }

    /// Adds received bytes and returns the outcome once the response is complete or broken.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) -> Outcome? {
        guard outcome == nil else { return outcome }
        buffer.append(contentsOf: bytes)
        while outcome == nil, step() {}
        return outcome
    }

    /// The peer closed: completes a body that runs until close, fails anything else unfinished.
    package mutating func finishAtEndOfStream() -> Outcome {
        if let outcome { return outcome }
        if let head, case .untilClose? = framing {
            outcome = .complete(head, body)
        } else {
            outcome = .failure("connection closed before the response was complete")
        }
        return outcome!
    }

    /// The body bytes that arrived since the last call (streaming callers).
    package mutating func takeBody() -> [UInt8] {
        defer { body = [] }
        return body
    }

    private var available: Int { buffer.count - start }

    /// One parsing step; false when more bytes are needed.
    private mutating func step() -> Bool {
        guard let framing else { return parseHead() }
        switch framing {
        case .length(let remaining):
            let take = min(remaining, available)
            guard take > 0 || remaining == 0 else { return false }
            consumeBody(take)
            if remaining - take == 0 { finish() } else { self.framing = .length(remaining - take) }
            return outcome == nil && available > 0
        case .untilClose:
            consumeBody(available)
            return false
        case .chunkSize, .chunkDataEnd, .trailers:
            guard let line = takeLine() else { return false }
            return chunkLine(line, framing)
        case .chunkData(let remaining):
            let take = min(remaining, available)
            guard take > 0 else { return false }
            consumeBody(take)
            self.framing = remaining - take == 0 ? .chunkDataEnd : .chunkData(remaining - take)
            return true
        }
    }

    private mutating func chunkLine(_ line: [UInt8], _ framing: Framing) -> Bool {
        switch framing {
        case .chunkSize:
            let size = line.withUnsafeBufferPointer { HTTPRequestParser.parseChunkSize($0) }
            switch size {
            case .failure(let error): outcome = .failure(error.reason)
            case .success(0): self.framing = .trailers
            case .success(let count):
                guard bodyCount + count <= maxBodyBytes else {
                    outcome = .failure("response body exceeds \(maxBodyBytes) bytes")
                    return false
                }
                self.framing = .chunkData(count)
            }
        case .chunkDataEnd:
            guard line.isEmpty else {
                outcome = .failure("missing CRLF after chunk data")
                return false
            }
            self.framing = .chunkSize
        default:
            if line.isEmpty { finish() }  // end of the trailer section; trailers are dropped
        }
        return outcome == nil
    }

    private mutating func consumeBody(_ count: Int) {
        guard count > 0 else { return }
        guard bodyCount + count <= maxBodyBytes else {
            outcome = .failure("response body exceeds \(maxBodyBytes) bytes")
            return
        }
        bodyCount += count
        body.append(contentsOf: buffer[start..<start + count])
        start += count
        compact()
    }

    private mutating func finish() {
        guard let head else { return }
        outcome = .complete(head, body)
    }

    /// One CRLF- (or LF-) terminated line without its terminator, or nil when incomplete.
    private mutating func takeLine() -> [UInt8]? {
        guard let newline = buffer[start...].firstIndex(of: 0x0A) else {
            if available > maxHeaderBytes { outcome = .failure("response line too long") }
            return nil
        }
        var end = newline
        if end > start, buffer[end - 1] == 0x0D { end -= 1 }
        let line = Array(buffer[start..<end])
        start = newline + 1
        compact()
        return line
    }

    private mutating func compact() {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
    }

    // MARK: - Head

    /// Parses a complete head when one is buffered; decides the body framing (RFC 9112 §6.3).
    private mutating func parseHead() -> Bool {
        let window = buffer[start...]
        guard let end = headEnd(window) else {
            if available > maxHeaderBytes { outcome = .failure("response head exceeds \(maxHeaderBytes) bytes") }
            return false
        }
        // Split on bytes: in a Swift String "\r\n" is one Character and would not split on "\n".
        let parsedLines = buffer.withUnsafeBufferPointer { Self.headLines(UnsafeBufferPointer(rebasing: $0[start..<end.head])) }
        start = end.body
        compact()
        guard let (version, status, headers) = parsedLines else {
            outcome = .failure("malformed status line")
            return false
        }
        guard let headers else {
            outcome = .failure("malformed header line")
            return false
        }
        // Interim responses (100 Continue, 103 Early Hints) precede the real one.
        if (100..<200).contains(status) { return true }
        let http10 = version == 0
        let connection = headers["connection"] ?? ""
        let keepAlive = http10 ? Self.hasToken(connection, "keep-alive") : !Self.hasToken(connection, "close")
        let parsed = Head(status: status, headers: headers, keepAlive: keepAlive)
        head = parsed
        if bodyless || status == 204 || status == 304 {
            framing = .length(0)
        } else if let coding = headers["transfer-encoding"]?.lowercased() {
            guard coding.split(separator: ",").last.map(Self.trimmed) == "chunked" else {
                outcome = .failure("unsupported transfer coding \(coding)")
                return false
            }
            framing = .chunkSize
        } else if let length = headers["content-length"] {
            guard let count = Int(length), count >= 0 else {
                outcome = .failure("invalid content-length")
                return false
            }
            guard count <= maxBodyBytes else {
                outcome = .failure("response body exceeds \(maxBodyBytes) bytes")
                return false
            }
            framing = .length(count)
        } else {
            framing = .untilClose
            head?.keepAlive = false
        }
        return true
    }

    /// The status line's minor version and status, and the header fields (nil when a header
    /// line is malformed); nil when the status line is malformed.
    private static func headLines(_ bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int, HTTPHeaders?)? {
        var lineStart = 0
        var version = -1
        var status = 0
        var headers = HTTPHeaders()
        headers.reserveCapacity(8)
        while lineStart <= bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd + 1
            if lineEnd > lineStart, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            lineStart = next
            if version < 0 {
                // "HTTP/1.x SP status [SP reason]"
                guard line.count >= 12, line.starts(with: "HTTP/1.".utf8), line[8] == 0x20,
                    let parsed = Int(String(decoding: line[9..<12], as: UTF8.self)), (100...999).contains(parsed),
                    line.count == 12 || line[12] == 0x20
                else { return nil }
                version = line[7] == UInt8(ascii: "0") ? 0 : 1
                status = parsed
                continue
            }
            guard !line.isEmpty else { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != 0 else { return (version, status, nil) }
            var valueStart = colon + 1
            var valueEnd = line.count
            while valueStart < valueEnd, line[valueStart] == 0x20 || line[valueStart] == 0x09 { valueStart += 1 }
            while valueEnd > valueStart, line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            headers.add(
                String(decoding: UnsafeBufferPointer(rebasing: line[0..<colon]), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(rebasing: line[valueStart..<valueEnd]), as: UTF8.self))
        }
        return version < 0 ? nil : (version, status, headers)
    }

    /// Whether `token` occurs in `value`, ASCII case-insensitively (as `lowercased().contains`).
    private static func hasToken(_ value: String, _ token: StaticString) -> Bool {
        let haystack = Array(value.utf8)
        let needle = UnsafeBufferPointer(start: token.utf8Start, count: token.utf8CodeUnitCount)
        guard haystack.count >= needle.count else { return false }
        for offset in 0...(haystack.count - needle.count) {
            var index = 0
            while index < needle.count, HTTPSyntax.lowercased(haystack[offset + index]) == needle[index] { index += 1 }
            if index == needle.count { return true }
        }
        return false
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }

    /// Where the head ends (index of the blank line) and the body starts.
    private func headEnd(_ window: ArraySlice<UInt8>) -> (head: Int, body: Int)? {
        var index = window.startIndex
        while let newline = window[index...].firstIndex(of: 0x0A) {
            let next = newline + 1
            if next < window.endIndex, window[next] == 0x0A { return (newline, next + 1) }
            if next + 1 < window.endIndex, window[next] == 0x0D, window[next + 1] == 0x0A { return (newline, next + 2) }
            index = next
        }
        return nil
    }
}
