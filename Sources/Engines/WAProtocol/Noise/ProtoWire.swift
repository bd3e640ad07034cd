/// A minimal protobuf wire-format reader and writer for the handful of small messages this module owns
/// (HandshakeMessage, CertChain, the ADV identities).
///
/// The large schemas come from generated swift-protobuf code elsewhere; keeping these few by hand lets the
/// handshake and pairing crypto run and be tested without that dependency. Only what proto2 needs for
/// these messages is here: varints and length-delimited fields; fixed32/fixed64 are skipped when read.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    init() {}

    /// Appends a varint field (wire type 0).
    mutating func varint(_ field: Int, _ value: UInt64) {
        appendVarint(UInt64(field) << 3)
        appendVarint(value)
    }

    /// Appends a length-delimited field (wire type 2).
    mutating func bytes(_ field: Int, _ value: some Collection<UInt8>) {
        appendVarint(UInt64(field) << 3 | 2)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Appends `value` when present; proto2 optional fields that are unset are simply absent.
    mutating func varint(_ field: Int, ifPresent value: UInt64?) {
        if let value { varint(field, value) }
    }

    mutating func bytes(_ field: Int, ifPresent value: [UInt8]?) {
        if let value { bytes(field, value) }
    }

    private mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}

/// Reads fields one at a time; unknown fields are returned too, so callers skip what they do not know.
struct ProtoReader {
    /// One decoded field value.
    enum Value {
        case varint(UInt64)
        case bytes([UInt8])
        /// fixed32 / fixed64: none of our messages use them, but a newer peer might add one.
        case fixed
    }

    private let input: [UInt8]
    private var offset = 0

    init(_ input: [UInt8]) { self.input = input }

    /// The next (field number, value), or nil at the end of the input.
    mutating func next() throws(ProtocolError) -> (field: Int, value: Value)? {
        guard offset < input.count else { return nil }
        let key = try readVarint()
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0, field < 1 << 29 else { throw ProtocolError.malformed("protobuf field number \(field)") }
        switch key & 7 {
        case 0: return (field, .varint(try readVarint()))
        case 1: try skip(8)
        case 2:
            let length = try readVarint()
            guard length <= UInt64(input.count - offset) else {
                throw ProtocolError.malformed("protobuf length overruns input")
            }
            let start = offset
            offset += Int(length)
            return (field, .bytes(Array(input[start..<offset])))
        case 5: try skip(4)
        default: throw ProtocolError.malformed("protobuf wire type \(key & 7)")
        }
        return (field, .fixed)
    }

    private mutating func skip(_ count: Int) throws(ProtocolError) {
        guard input.count - offset >= count else { throw ProtocolError.malformed("protobuf fixed field truncated") }
        offset += count
    }

    private mutating func readVarint() throws(ProtocolError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < input.count {
            let byte = input[offset]
            offset += 1
            guard shift < 64 else { throw ProtocolError.malformed("protobuf varint too long") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw ProtocolError.malformed("protobuf varint truncated")
    }
}

extension ProtoReader.Value {
    /// The value of a `bytes`/embedded-message field, or a malformed error naming `what`.
    func bytes(_ what: String) throws(ProtocolError) -> [UInt8] {
        guard case .bytes(let value) = self else { throw ProtocolError.malformed("\(what) is not length-delimited") }
        return value
    }

    /// The value of a varint field, or a malformed error naming `what`.
    func varint(_ what: String) throws(ProtocolError) -> UInt64 {
        guard case .varint(let value) = self else { throw ProtocolError.malformed("\(what) is not a varint") }
        return value
    }

    /// A `uint32` field: proto truncates wider values to 32 bits on decode.
    func uint32(_ what: String) throws(ProtocolError) -> UInt32 {
        UInt32(truncatingIfNeeded: try varint(what))
    }
}
