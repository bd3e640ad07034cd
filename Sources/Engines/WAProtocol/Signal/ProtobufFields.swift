/// The few pieces of the protobuf wire format (protobuf.dev/programming-guides/encoding) that the session
/// record and state codecs use: they are read and written for every message, where SwiftProtobuf's
/// generic machinery and `Data` fields cost more than the cipher itself. Everything else about Signal
/// protobufs goes through SwiftProtobuf.
///
/// Decoding follows protobuf's rules: unknown fields are skipped, the last of a repeated scalar wins, and
/// repeated occurrences of a singular message merge (their concatenation is decoded). It is stricter than
/// SwiftProtobuf in two corners no record of ours contains: a known field with the wrong wire type and a
/// group are refused rather than skipped.

/// Reads a message's top-level fields in order, without decoding their contents.
struct ProtobufFieldReader {
    /// One field: its number, and its value or content.
    struct Field {
        let number: UInt64
        let wireType: UInt64
        fileprivate let varint: UInt64
        fileprivate let content: ArraySlice<UInt8>
        fileprivate let what: String

        /// The content of a length-delimited field (bytes, string or embedded message).
        func lengthDelimited() throws -> ArraySlice<UInt8> {
            guard wireType == 2 else { throw wrongType("length-delimited") }
            return content
        }

        /// A `uint32` field: the low 32 bits of its varint, as every protobuf decoder reads it.
        func uint32() throws -> UInt32 {
            guard wireType == 0 else { throw wrongType("a varint") }
            return UInt32(truncatingIfNeeded: varint)
        }

        private func wrongType(_ expected: String) -> ProtocolError {
            ProtocolError.signalMalformed("\(what): field \(number) is not \(expected)")
        }
    }

    private let bytes: ArraySlice<UInt8>
    private var offset: Int
    /// Names the message in errors.
    private let what: String

    init(_ bytes: ArraySlice<UInt8>, _ what: String) {
        self.bytes = bytes
        self.what = what
        offset = bytes.startIndex
    }

    /// The next field, nil at the end; throws on a truncated or malformed field.
    mutating func next() throws -> Field? {
        guard offset < bytes.endIndex else { return nil }
        let key = try readVarint()
        let number = key >> 3
        // Field numbers run from 1 to 2^29 - 1.
        guard number > 0, number < 1 << 29 else { throw malformed("field number \(number)") }
        let wireType = key & 7
        var varint: UInt64 = 0
        var content: ArraySlice<UInt8> = []
        switch wireType {
        case 0: varint = try readVarint()
        case 1: try skip(8)
        case 2:
            let length = try readVarint()
            guard length <= UInt64(bytes.endIndex - offset) else { throw malformed("field \(number) is truncated") }
            content = bytes[offset..<(offset + Int(length))]
            offset += Int(length)
        case 5: try skip(4)
        // 3 and 4 are the deprecated groups, which no Signal record uses; 6 and 7 do not exist.
        default: throw malformed("field \(number) has wire type \(wireType)")
        }
        return Field(number: number, wireType: wireType, varint: varint, content: content, what: what)
    }

    private mutating func readVarint() throws -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 70, by: 7) {
            guard offset < bytes.endIndex else { throw malformed("truncated varint") }
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
        }
        throw malformed("varint longer than 10 bytes")
    }

    private mutating func skip(_ count: Int) throws {
        guard bytes.endIndex - offset >= count else { throw malformed("truncated fixed-width field") }
        offset += count
    }

    private func malformed(_ detail: String) -> ProtocolError {
        ProtocolError.signalMalformed("\(what): \(detail)")
    }
}

/// Writes fields the way SwiftProtobuf does: in the order given (callers go by field number), each as key
/// then value, a length-delimited one with its length first.
struct ProtobufFieldWriter {
    private(set) var bytes: [UInt8] = []

    mutating func appendBytes(field: Int, _ content: some Collection<UInt8>) {
        appendVarint(UInt64(field) << 3 | 2)
        appendVarint(UInt64(content.count))
        bytes += content
    }

    mutating func appendUInt32(field: Int, _ value: UInt32) {
        appendVarint(UInt64(field) << 3)
        appendVarint(UInt64(value))
    }

    /// An embedded message, whose fields `build` writes.
    mutating func appendMessage(field: Int, _ build: (inout ProtobufFieldWriter) -> Void) {
        var message = ProtobufFieldWriter()
        build(&message)
        appendBytes(field: field, message.bytes)
    }

    private mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}
