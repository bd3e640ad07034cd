import Foundation
import Reactor
import WAProtocol

/// What opening a poll's votes takes, kept in the auth state under `poll.<id>` (a JSON object):
/// the poll's secret, its sender (the wire JID without a device) and its options in order.
struct PollRecord: Sendable, Equatable {
    var secret: [UInt8]
    var sender: String
    var options: [String]

    static func key(_ pollID: String) -> String { "poll.\(pollID)" }

    var serialized: [UInt8] {
        JSONWriter.bytes([
            "secret": .string(Crypto.hex(secret)), "sender": .string(sender), "options": .array(options.map(JSONValue.string)),
        ])
    }

    init(secret: [UInt8], sender: String, options: [String]) {
        self.secret = secret
        self.sender = sender
        self.options = options
    }

    init?(serialized bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes), let hex = value["secret"]?.stringValue, let sender = value["sender"]?.stringValue,
            let options = value["options"]?.arrayValue?.compactMap(\.stringValue)
        else { return nil }
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        secret = stride(from: 0, to: 64, by: 2).compactMap { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16) }
        guard secret.count == 32 else { return nil }
        self.sender = sender
        self.options = options
    }

    /// Opens `vote` by `voter` (wire JID without a device): the chosen option names, in the
    /// poll's order. Hashes that match no option are dropped.
    func open(_ vote: Waproto_PollEncValue, pollID: String, voter: String) throws -> [String] {
        let chosen = Set(try PollCrypto.openVote(vote, secret: secret, pollID: pollID, pollSender: sender, voter: voter))
        return options.filter { chosen.contains(PollCrypto.optionHash($0)) }
    }

    /// The stored row's `metadata` for a poll (OpenWA: `poll {name, options, allowMultipleAnswers}`).
    static func metadata(name: String, options: [String], allowMultipleAnswers: Bool) -> JSONValue {
        ["poll": ["name": .string(name), "options": .array(options.map(JSONValue.string)), "allowMultipleAnswers": .bool(allowMultipleAnswers)]]
    }
}
