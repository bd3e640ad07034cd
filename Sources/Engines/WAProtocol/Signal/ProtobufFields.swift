/// The few pieces of the protobuf wire format (protobuf.dev/programming-guides/encoding) that
/// `SessionRecord` reads and writes itself, so that archived states can stay serialized inside a record.
/// Everything else about Signal protobufs goes through SwiftProtobuf.

/// Reads a message's top-level fields in order, without decoding their contents.
struct ProtobufFieldReader {
    /// One field: its number, and its content when it is length-delimited.
    struct Field {
        let number: UInt64
        let wireType: UInt64
        fileprivate let content: ArraySlice<UInt8>
        fileprivate let what: String

        /// The content of a length-delimited field (bytes, string or embedded message).
        func lengthDelimited() throws -> ArraySlice<UInt8> {
            guard wireType == 2 else {
                throw ProtocolError.signalMalformed("\(what): field \(number) is not length-delimited")
            }
            return content
        }
    }

    private let bytes: [UInt8]
    private var offset = 0
    /// Names the message in errors.
    private let what: String

    init(_ bytes: [UInt8], _ what: String) {
        self.bytes = bytes
        self.what = what
    }

    /// The next field, nil at the end; throws on a truncated or malformed field.
    mutating func next() throws -> Field? {
        guard offset < bytes.count else { return nil }
        let key = try varint()
        let number = key >> 3
        // Field numbers run from 1 to 2^29 - 1.
        guard number > 0, number < 1 << 29 else { throw malformed("field number \(number)") }
        let wireType = key & 7
        var content: ArraySlice<UInt8> = []
        switch wireType {
        case 0: _ = try varint()
        case 1: try skip(8)
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.count - offset) else { throw malformed("field \(number) is truncated") }
            content = bytes[offset..<(offset + Int(length))]
            offset += Int(length)
        case 5: try skip(4)
        // 3 and 4 are the deprecated groups, which no Signal record uses; 6 and 7 do not exist.
        default: throw malformed("field \(number) has wire type \(wireType)")
        }
        return Field(number: number, wireType: wireType, content: content, what: what)
    }

    private mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 70, by: 7) {
            guard offset < bytes.count else { throw malformed("truncated varint") }
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
        }
        throw malformed("varint longer than 10 bytes")
    }

    private mutating func skip(_ count: Int) throws {
        guard bytes.count - offset >= count else { throw malformed("truncated fixed-width field") }
        offset += count
    }

    private func malformed(_ detail: String) -> ProtocolError {
        ProtocolError.signalMalformed("\(what): \(detail)")
    }
}

/// Writes length-delimited fields the way SwiftProtobuf does: key, length, content.
struct ProtobufFieldWriter {
    private(set) var bytes: [UInt8] = []

    mutating func appendBytes(field: Int, _ content: [UInt8]) {
        appendVarint(UInt64(field) << 3 | 2)
        appendVarint(UInt64(content.count))
        bytes += content
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
