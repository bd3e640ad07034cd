/// Splits the DevTools pipe's byte stream into messages: each is one JSON text followed by a
/// single NUL byte, with no length prefix.
///
/// Large replies arrive in many reads (a 50 MiB reply is ~800 reads of 64 KiB), so bytes are
/// appended to one buffer and only the newly appended bytes are scanned for NUL; scanning the
/// whole buffer on every read would be quadratic.
package struct CDPFrameSplitter {
    package enum Failure: Error, Equatable {
        /// A message grew past the limit without its NUL.
        case messageTooLarge(Int)
    }

    private var buffer: [UInt8] = []
    /// Where the current (incomplete) message starts in `buffer`.
    private var start = 0
    /// Everything before this index has been scanned.
    private var scanned = 0
    package let maxMessageBytes: Int

    package init(maxMessageBytes: Int = 256 << 20) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes held for an incomplete message.
    package var pendingBytes: Int { buffer.count - start }

    /// Adds `bytes` and returns every message they complete, in order, without the NUL.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        return try split()
    }

    package mutating func append(_ bytes: [UInt8]) throws(Failure) -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        return try split()
    }

    private mutating func split() throws(Failure) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        let found: [[UInt8]]? = buffer.withUnsafeBufferPointer { bytes -> [[UInt8]]? in
            var out: [[UInt8]] = []
            var index = scanned
            while index < bytes.count {
                if bytes[index] == 0 {
                    out.append(Array(bytes[start..<index]))
                    start = index + 1
                }
                index += 1
            }
            scanned = bytes.count
            return out
        }
        messages = found ?? []
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            start = 0
            scanned = 0
        } else if start > 0, start >= buffer.count / 2 {
            // Compact once the consumed prefix dominates, so the copy is amortised.
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
        if pendingBytes > maxMessageBytes { throw .messageTooLarge(pendingBytes) }
        return messages
    }

    /// Frames one outgoing message: its bytes followed by the NUL terminator.
    package static func frame(_ message: [UInt8]) -> [UInt8] {
        var framed = message
        framed.append(0)
        return framed
    }
}
