import Reactor

/// The plaintext of a transport frame: one flags byte, then a node body (protocol reference §4.2).
///
/// Bit `0x02` of the flags marks a zlib-compressed body; the other bits carry nothing today and
/// are ignored, as both references ignore them.
package enum NodePlaintext {
    /// Inflated bodies larger than this are refused. Frames are at most 16 MiB on the wire and
    /// compressed stanzas are small, so 16 MiB of output is generous yet bounded.
    package static let defaultMaxInflatedSize = 1 << 24

    /// Flags byte plus body. Compression is only used when asked for: both references always
    /// send `00` and a real server never needs client stanzas compressed.
    package static func encode(_ node: BinaryNode, compressed: Bool = false) throws -> [UInt8] {
        guard compressed else {
            var plaintext: [UInt8] = [0]
            try NodeEncoder.append(node, to: &plaintext)
            return plaintext
        }
        let body = try NodeEncoder.encode(node)
        do {
            return [BinaryTag.compressedFlag] + (try Zlib.deflate(body))
        } catch {
            throw ProtocolError.unencodable("zlib: \(error)")
        }
    }

    /// Decodes a frame plaintext, inflating the body when the flags say so.
    package static func decode(
        _ plaintext: [UInt8], maxInflatedSize: Int = defaultMaxInflatedSize,
        maxDepth: Int = NodeDecoder.defaultMaxDepth
    ) throws -> BinaryNode {
        guard let flags = plaintext.first else { throw ProtocolError.truncated }
        guard flags & BinaryTag.compressedFlag != 0 else {
            return try NodeDecoder.decode(plaintext[1...], maxDepth: maxDepth)
        }
        let body: [UInt8]
        do {
            body = try Zlib.inflate(Array(plaintext[1...]), maxOutput: maxInflatedSize)
        } catch let error as ZlibError where error.isOutputLimit {
            throw ProtocolError.decompressedTooLarge(maxInflatedSize)
        } catch {
            throw ProtocolError.decompressionFailed("\(error)")
        }
        return try NodeDecoder.decode(body, maxDepth: maxDepth)
    }
}
