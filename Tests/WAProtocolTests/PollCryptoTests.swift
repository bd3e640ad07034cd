import Foundation
import Testing
@testable import WAProtocol

/// Poll votes against the reference's vector V9 (part 2, section 8.3), then sealed and opened.
@Suite struct PollCryptoTests {
    static let secret = signalHex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    static let pollID = "3EB0AABBCCDDEEFF001122"
    static let sender = "1111111111@s.whatsapp.net"
    static let voter = "2222222222@s.whatsapp.net"

    @Test func voteKeyMatchesVectorV9() {
        let key = PollCrypto.voteKey(secret: Self.secret, pollID: Self.pollID, pollSender: Self.sender, voter: Self.voter)
        #expect(signalHexString(key) == "eeaccc54cbba985b487facde011bb96c23ebd4a0adfefd58ded27c5ad5cb5a0c")
        #expect(PollCrypto.additionalData(pollID: Self.pollID, voter: Self.voter) == Array((Self.pollID + "\0" + Self.voter).utf8))
    }

    @Test func aSealedVoteOpensOnlyForItsPollAndVoter() throws {
        let iv = [UInt8](repeating: 7, count: 12)
        let sealed = try PollCrypto.sealVote(
            options: ["Red", "Blue"], secret: Self.secret, pollID: Self.pollID, pollSender: Self.sender, voter: Self.voter, iv: iv)
        #expect(Array(sealed.encIv) == iv)
        let hashes = try PollCrypto.openVote(sealed, secret: Self.secret, pollID: Self.pollID, pollSender: Self.sender, voter: Self.voter)
        #expect(hashes == [PollCrypto.optionHash("Red"), PollCrypto.optionHash("Blue")])
        #expect(signalHexString(PollCrypto.optionHash("Red")) == signalHexString(Array(SHA256Hex.red)))
        #expect(throws: ProtocolError.self) {
            try PollCrypto.openVote(sealed, secret: Self.secret, pollID: Self.pollID, pollSender: Self.sender, voter: "3333@s.whatsapp.net")
        }
        #expect(throws: ProtocolError.self) {
            try PollCrypto.openVote(sealed, secret: Self.secret, pollID: "3EB0OTHER", pollSender: Self.sender, voter: Self.voter)
        }
        var tampered = sealed
        tampered.encPayload[tampered.encPayload.startIndex] ^= 1
        #expect(throws: ProtocolError.self) {
            try PollCrypto.openVote(tampered, secret: Self.secret, pollID: Self.pollID, pollSender: Self.sender, voter: Self.voter)
        }
    }
}

/// SHA-256("Red"), computed independently with `printf Red | sha256sum`.
private enum SHA256Hex {
    static let red = signalHex("ba19e9c3d5f49882ddaafed4f286a8a81491150426d321179270e27e74a89097")
}
