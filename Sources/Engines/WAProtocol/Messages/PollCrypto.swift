import Foundation
import Reactor
import SwiftProtobuf

/// Poll votes (reference part 2, 4.4): a vote is the SHA-256 of each chosen option's name, as a
/// `PollVoteMessage`, sealed with AES-256-GCM under a key derived from the poll's 32-byte
/// `messageSecret`, the poll's id, its sender and the voter (JIDs without a device).
package enum PollCrypto {
    /// HKDF-SHA256 (no salt) of the poll's secret with `pollID ‖ pollSender ‖ voter ‖ "Poll Vote"`.
    package static func voteKey(secret: [UInt8], pollID: String, pollSender: String, voter: String) -> [UInt8] {
        let prk = Crypto.hkdfExtractSHA256(salt: [UInt8](), ikm: secret)
        return Crypto.hkdfExpandSHA256(prk: prk, info: Array((pollID + pollSender + voter + "Poll Vote").utf8), count: 32)
    }

    /// The AAD of a vote: `pollID ‖ 0x00 ‖ voter`.
    static func additionalData(pollID: String, voter: String) -> [UInt8] {
        Array(pollID.utf8) + [0] + Array(voter.utf8)
    }

    /// The hash a vote carries for an option.
    package static func optionHash(_ name: String) -> [UInt8] { Crypto.sha256(Array(name.utf8)) }

    /// Seals a vote for `options` (names); `iv` is random unless given (tests).
    package static func sealVote(
        options: [String], secret: [UInt8], pollID: String, pollSender: String, voter: String, iv: [UInt8]? = nil
    ) throws -> Waproto_PollEncValue {
        var vote = Waproto_PollVoteMessage()
        vote.selectedOptions = options.map { Data(optionHash($0)) }
        let nonce = try iv ?? Crypto.randomBytes(12)
        let sealed = try Crypto.aes256GCMSeal(
            key: voteKey(secret: secret, pollID: pollID, pollSender: pollSender, voter: voter), iv: nonce,
            plaintext: Array(try vote.serializedBytes() as Data), aad: additionalData(pollID: pollID, voter: voter))
        var value = Waproto_PollEncValue()
        value.encPayload = Data(sealed)
        value.encIv = Data(nonce)
        return value
    }

    /// The option hashes of a sealed vote; throws when it does not open under this poll and voter.
    package static func openVote(
        _ value: Waproto_PollEncValue, secret: [UInt8], pollID: String, pollSender: String, voter: String
    ) throws -> [[UInt8]] {
        let opened: [UInt8]
        do {
            opened = try Crypto.aes256GCMOpen(
                key: voteKey(secret: secret, pollID: pollID, pollSender: pollSender, voter: voter), iv: Array(value.encIv),
                ciphertext: Array(value.encPayload), aad: additionalData(pollID: pollID, voter: voter))
        } catch {
            throw ProtocolError.signalMalformed("the poll vote does not open with this poll's key")
        }
        do {
            return try Waproto_PollVoteMessage(serializedBytes: opened).selectedOptions.map { Array($0) }
        } catch {
            throw ProtocolError.signalMalformed("the poll vote is not a PollVoteMessage")
        }
    }
}

extension MessageCodec {
    /// A poll: `selectable` 0 lets voters pick any number of options, 1 exactly one. The secret
    /// (32 random bytes) keys the votes and must be kept with the poll.
    package static func poll(name: String, options: [String], selectable: UInt32, secret: [UInt8]) -> Waproto_Message {
        var poll = Waproto_PollCreationMessage()
        poll.name = name
        poll.options = options.map { name in
            var option = Waproto_PollCreationMessage.Option()
            option.optionName = name
            return option
        }
        poll.selectableOptionsCount = selectable
        var message = Waproto_Message()
        message.pollCreationMessage = poll
        var context = Waproto_MessageContextInfo()
        context.messageSecret = Data(secret)
        message.messageContextInfo = context
        return message
    }

    /// A vote on the poll `pollID` that `pollSender` created in `chat`.
    package static func pollVote(
        pollID: String, chat: String, pollFromMe: Bool, options: [String], secret: [UInt8], pollSender: String, voter: String
    ) throws -> Waproto_Message {
        var key = Waproto_MessageKey()
        key.remoteJid = chat
        key.fromMe = pollFromMe
        key.id = pollID
        var update = Waproto_PollUpdateMessage()
        update.pollCreationMessageKey = key
        update.vote = try PollCrypto.sealVote(
            options: options, secret: secret, pollID: pollID, pollSender: pollSender, voter: voter)
        update.senderTimestampMs = Int64(Date().timeIntervalSince1970 * 1000)
        var message = Waproto_Message()
        message.pollUpdateMessage = update
        return message
    }
}
