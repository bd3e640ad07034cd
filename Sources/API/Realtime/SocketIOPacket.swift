import Reactor

/// One Socket.IO v5 packet, carried as the data of an Engine.IO `message` packet:
/// `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`, for example
/// `42/events,7["message",{"type":"ping"}]`.
struct SocketIOPacket: Equatable {
    enum Kind: Int {
        case connect = 0
        case disconnect = 1
        case event = 2
        case ack = 3
        case connectError = 4
        case binaryEvent = 5
        case binaryAck = 6
    }

    var kind: Kind
    /// `/` is the main namespace; it is left out of the encoded form.
    var namespace: String
    var ackID: Int?
    var data: JSONValue?

    init(_ kind: Kind, namespace: String, ackID: Int? = nil, data: JSONValue? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.ackID = ackID
        self.data = data
    }

    /// Nil when the text is not a well-formed packet (unknown type, bad JSON, a binary packet's
    /// attachment count without its dash).
    init?(decoding text: String) {
        var rest = Substring(text)
        guard let digit = rest.first, let raw = digit.wholeNumberValue, let kind = Kind(rawValue: raw) else { return nil }
        rest = rest.dropFirst()
        if kind == .binaryEvent || kind == .binaryAck {
            // Attachments follow as binary frames; the count is read only to reject the packet cleanly.
            guard let dash = rest.firstIndex(of: "-"), rest[..<dash].allSatisfy(\.isASCII) else { return nil }
            rest = rest[rest.index(after: dash)...]
        }
        var namespace = "/"
        if rest.first == "/" {
            let comma = rest.firstIndex(of: ",") ?? rest.endIndex
            namespace = String(rest[..<comma])
            rest = comma == rest.endIndex ? rest[comma...] : rest[rest.index(after: comma)...]
        }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        var ackID: Int?
        if !digits.isEmpty {
            guard digits.count <= 15, let id = Int(digits) else { return nil }
            ackID = id
            rest = rest.dropFirst(digits.count)
        }
        var data: JSONValue?
        if !rest.isEmpty {
            guard let value = try? JSONParser.parse(Array(rest.utf8)) else { return nil }
            data = value
        }
        self.init(kind, namespace: namespace, ackID: ackID, data: data)
    }

    var encoded: String {
        var text = String(kind.rawValue)
        if namespace != "/" { text += namespace + "," }
        if let ackID { text += String(ackID) }
        if let data { text += JSONWriter.string(data) }
        return text
    }

    /// An `EVENT` packet: `[name, argument]`.
    static func event(_ name: String, _ argument: JSONValue, namespace: String) -> SocketIOPacket {
        SocketIOPacket(.event, namespace: namespace, data: .array([.string(name), argument]))
    }
}
