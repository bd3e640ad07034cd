/// One Engine.IO v4 packet in its text form: a type digit followed by the data.
///
/// Over WebSocket each text frame is one packet; over HTTP long-polling a body carries several,
/// separated by the record separator (0x1E). Binary packets are not used by this server: the
/// real-time channel speaks JSON only.
struct EngineIOPacket: Equatable {
    enum Kind: Character {
        case open = "0"
        case close = "1"
        case ping = "2"
        case pong = "3"
        case message = "4"
        case upgrade = "5"
        case noop = "6"
    }

    var kind: Kind
    var data: String

    init(_ kind: Kind, _ data: String = "") {
        self.kind = kind
        self.data = data
    }

    /// Nil when the text does not start with a known type digit.
    init?(decoding text: String) {
        guard let first = text.first, let kind = Kind(rawValue: first) else { return nil }
        self.kind = kind
        self.data = String(text.dropFirst())
    }

    var encoded: String { String(kind.rawValue) + data }

    /// The separator between packets in a polling body.
    static let recordSeparator: Character = "\u{1E}"

    /// The packets of a polling POST body; nil when any of them is malformed.
    static func decodePayload(_ body: String) -> [EngineIOPacket]? {
        var packets: [EngineIOPacket] = []
        for part in body.split(separator: recordSeparator, omittingEmptySubsequences: false) {
            guard let packet = EngineIOPacket(decoding: String(part)) else { return nil }
            packets.append(packet)
        }
        return packets
    }

    /// The body of a polling GET answer.
    static func encodePayload(_ packets: [EngineIOPacket]) -> String {
        packets.map(\.encoded).joined(separator: String(recordSeparator))
    }
}
