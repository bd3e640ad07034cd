@testable import WAProtocol

/// SplitMix64: a tiny, seedable generator so property tests are reproducible from the seed
/// printed in a failure.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random nodes covering every wire form: tokens of both kinds, nibble and hex strings, raw
/// UTF-8 (with characters the text form must escape), bytes across the BINARY_8/20 boundary,
/// every JID form, nested and empty child lists.
///
/// Only values that survive a round trip exactly are produced: `.string` content is always a
/// token or packed string (a raw string would come back as bytes, by design). JID users
/// include the separators of the JID string form, which must still print losslessly.
struct NodeGenerator {
    var random: SeededRandom
    /// Extra byte sizes to mix in (crossing BINARY_8 and BINARY_20 boundaries costs memory, so
    /// the megabyte cases live in a dedicated test).
    var byteSizes = [0, 1, 2, 16, 255, 256, 257, 1000, 4095]

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func node(depth: Int = 1, maxDepth: Int = 5) -> BinaryNode {
        var attributes = NodeAttributes()
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            attributes.append(name(), attributeValue())
        }
        return BinaryNode(name(), attributes, content(depth: depth, maxDepth: maxDepth))
    }

    mutating func content(depth: Int, maxDepth: Int) -> BinaryNode.Content {
        switch Int.random(in: 0..<10, using: &random) {
        case 0, 1: return .none
        case 2...4 where depth < maxDepth:
            return .nodes(
                (0..<Int.random(in: 0...4, using: &random)).map { _ in node(depth: depth + 1, maxDepth: maxDepth) })
        case 5, 6: return .bytes(bytes())
        case 7: return .string(compactString())
        case 8: return .jid(jid())
        default: return .bytes(Array(unicodeString().utf8))
        }
    }

    // MARK: - Values

    mutating func name() -> String {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return singleToken()
        case 1: return doubleToken()
        case 2:
            return String(
                (0..<Int.random(in: 1...12, using: &random)).map { _ in pick("abcdefghijklmnopqrstuvwxyz-:_.") })
        default: return unicodeString(minLength: 1)
        }
    }

    mutating func attributeValue() -> AttributeValue {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return .jid(jid())
        case 1: return .string(unicodeString())
        case 2: return .string("")
        default: return .string(compactString())
        }
    }

    /// A string the encoder writes as a token or packed digits.
    mutating func compactString() -> String {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return singleToken()
        case 1: return doubleToken()
        case 2:
            return String(
                (0..<Int.random(in: 0...BinaryTag.packedMax, using: &random)).map { _ in pick("0123456789-.") })
        default:
            // At least one letter, so it is not a nibble string.
            let body = String(
                (0..<Int.random(in: 0...(BinaryTag.packedMax - 1), using: &random)).map { _ in pick("0123456789ABCDEF")
                })
            return body + String(pick("ABCDEF"))
        }
    }

    mutating func unicodeString(minLength: Int = 0) -> String {
        let palette: [String] = [
            "a", "Z", "0", " ", "\"", "\\", "<", ">", "&", "=", "/", "\n", "\t", "\u{1}", "\u{7F}", "é", "日本",
            "🙂", "jid\"", "0x", "&lt;", "\u{85}",
        ]
        return (0..<Int.random(in: minLength...10, using: &random)).map { _ in palette.randomElement(using: &random)! }
            .joined()
    }

    mutating func bytes() -> [UInt8] {
        let count =
            Bool.random(using: &random)
            ? byteSizes.randomElement(using: &random)! : Int.random(in: 0...300, using: &random)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    mutating func jid() -> JID {
        let user = jidUser()
        switch Int.random(in: 0..<7, using: &random) {
        case 0:
            let server = [
                JID.Server.user, JID.Server.group, JID.Server.lid, JID.Server.broadcast, JID.Server.newsletter,
                JID.Server.legacyUser, JID.Server.bot, JID.Server.call, "example.org",
            ].randomElement(using: &random)!
            return JID(user: Bool.random(using: &random) ? user : "", server: server)
        case 1: return JID(user: user, server: JID.Server.user, device: UInt16.random(in: 1...255, using: &random))
        case 2: return JID(user: user, server: JID.Server.lid, device: UInt16.random(in: 0...255, using: &random))
        case 3:
            return JID(
                user: user, server: Bool.random(using: &random) ? JID.Server.hosted : JID.Server.hostedLID,
                device: UInt16.random(in: 0...255, using: &random))
        case 4:
            let agent = [2, 5, 127, 130, 255].randomElement(using: &random)!
            return JID(
                user: user, server: JID.Server.user, device: UInt16.random(in: 0...255, using: &random),
                agent: UInt8(agent))
        case 5:
            return JID(
                user: user, server: JID.Server.messenger, device: UInt16.random(in: 0...UInt16.max, using: &random))
        default:
            return JID(
                user: user, server: JID.Server.interop, device: UInt16.random(in: 0...UInt16.max, using: &random),
                integrator: UInt16.random(in: 0...UInt16.max, using: &random))
        }
    }

    /// Phone numbers and LIDs (nibble), a token user, uppercase hex, letters (raw), or text
    /// holding JID separators.
    private mutating func jidUser() -> String {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return "status"
        case 1:
            return "3EB0" + String((0..<Int.random(in: 0...20, using: &random)).map { _ in pick("0123456789ABCDEF") })
        case 2: return String((0..<Int.random(in: 1...20, using: &random)).map { _ in pick("abcxyz_é") })
        case 3: return String((0..<Int.random(in: 1...8, using: &random)).map { _ in pick("a1.:@-") })
        default: return String((0..<Int.random(in: 1...20, using: &random)).map { _ in pick("0123456789") })
        }
    }

    private mutating func singleToken() -> String {
        TokenTables.single[Int.random(in: 1..<TokenTables.single.count, using: &random)]
    }

    private mutating func doubleToken() -> String {
        TokenTables.double.randomElement(using: &random)!.randomElement(using: &random)!
    }

    private mutating func pick(_ characters: String) -> Character {
        characters.randomElement(using: &random)!
    }
}
