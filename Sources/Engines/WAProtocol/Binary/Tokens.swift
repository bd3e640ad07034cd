/// Lookups in the token dictionaries of `TokenTables`, both directions.
///
/// The reverse map is built once, on first use, by Swift's lazy static initialisation (thread
/// safe); encoding a string then costs one hash lookup.
enum Tokens {
    /// Where a string lives in the dictionaries.
    enum Code: Sendable, Equatable {
        /// A single-byte token: the tag byte itself (1...235).
        case single(UInt8)
        /// A double-byte token: dictionary 0...3 and the index byte.
        case double(dictionary: UInt8, index: UInt8)
    }

    /// Every token except the unused empty entry, mapped to its code.
    static let codes: [String: Code] = {
        var codes: [String: Code] = [:]
        codes.reserveCapacity(TokenTables.single.count + TokenTables.double.count * 256)
        for (index, token) in TokenTables.single.enumerated() where index > 0 {
            codes[token] = .single(UInt8(index))
        }
        for (dictionary, tokens) in TokenTables.double.enumerated() {
            for (index, token) in tokens.enumerated() {
                codes[token] = .double(dictionary: UInt8(dictionary), index: UInt8(index))
            }
        }
        return codes
    }()

    /// The code for `string`, or nil when it must be packed or sent raw.
    static func code(for string: String) -> Code? {
        codes[string]
    }

    /// The single-byte token with tag byte `index`.
    static func single(_ index: UInt8) throws -> String {
        guard index > 0, Int(index) < TokenTables.single.count else {
            throw ProtocolError.tokenOutOfRange(dictionary: -1, index: Int(index))
        }
        return TokenTables.single[Int(index)]
    }

    /// Token `index` of double-byte dictionary `dictionary`.
    static func double(dictionary: Int, index: UInt8) throws -> String {
        guard TokenTables.double.indices.contains(dictionary), Int(index) < TokenTables.double[dictionary].count else {
            throw ProtocolError.tokenOutOfRange(dictionary: dictionary, index: Int(index))
        }
        return TokenTables.double[dictionary][Int(index)]
    }
}
