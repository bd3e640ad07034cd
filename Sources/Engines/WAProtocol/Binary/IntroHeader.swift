/// The bytes a client writes once, before its first frame (protocol reference §1.2).
///
/// ```
/// optional edge-routing pre-intro:  45 44 00 01  LL LL LL  <routing info>
/// mandatory header:                 57 41 06 03  ("WA", magic 6, dictionary version 3)
/// ```
/// Only the 4-byte `WA` header is the Noise prologue, even when the pre-intro is sent.
package enum IntroHeader {
    /// "WA".
    package static let magic: [UInt8] = [0x57, 0x41]
    /// whatsmeow's `WAMagicValue`.
    package static let magicValue: UInt8 = 6
    /// The token dictionary version this codec implements.
    package static let dictionaryVersion: UInt8 = TokenTables.dictionaryVersion
    /// `57 41 06 03`: the header and the Noise prologue.
    package static let header: [UInt8] = magic + [magicValue, dictionaryVersion]
    /// "ED" and the two fixed bytes that open the edge-routing pre-intro.
    package static let edgeRoutingPrefix: [UInt8] = [0x45, 0x44, 0x00, 0x01]

    /// The intro to send: the header, preceded by the edge-routing pre-intro when the server
    /// gave us routing info on an earlier connection.
    package static func encode(routingInfo: [UInt8]? = nil) throws -> [UInt8] {
        guard let routingInfo else { return header }
        guard routingInfo.count <= FrameWriter.maxPayloadSize else {
            throw ProtocolError.frameTooLarge(routingInfo.count)
        }
        let length = routingInfo.count
        return edgeRoutingPrefix + [UInt8(length >> 16), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + routingInfo + header
    }
}
