import Foundation
import Logging
import Reactor
import WAProtocol

/// What a phone does with changes to earlier messages (revokes, edits, poll votes, pins) and the
/// profile pictures the server hands out (protocol reference part 2, 4.4).
extension SimulatorCore {
    /// A change a companion sent this phone: the message it names in the phone's inbox is
    /// revoked or edited; a vote is opened with the poll's secret. `entry` (the change's own
    /// inbox record) notes the target and, for a vote, the options chosen.
    func apply(_ change: MessageCodec.Change?, from sender: JID, to phone: Account, entry: inout PhoneMessage) {
        switch change {
        case .revoke(let target)?:
            entry.target = target
            // The sender of a message can revoke it, and so can an admin of its group.
            let admin = entry.chat.hasSuffix("@\(JID.Server.group)") && ((try? group(entry.chat))?.isAdmin(sender.user) ?? false)
            if let index = phone.inbox.firstIndex(where: { $0.id == target && (admin || Self.sameUser($0.from, sender)) }) {
                phone.inbox[index].type = "revoked"
                phone.inbox[index].body = ""
            }
        case .edit(let target, let body)?:
            entry.target = target
            if let index = phone.inbox.firstIndex(where: { $0.id == target && Self.sameUser($0.from, sender) }) {
                phone.inbox[index].body = body
                phone.inbox[index].edited = true
            }
        case .pollVote(let target, let vote)?:
            entry.target = target
            guard let poll = phone.polls[target] else { return }
            do {
                let hashes = try PollCrypto.openVote(
                    vote, secret: poll.secret, pollID: target, pollSender: poll.sender, voter: sender.bare.description)
                entry.options = poll.options.filter { hashes.contains(PollCrypto.optionHash($0)) }
            } catch {
                logger.info("phone could not open a vote", metadata: ["phone": "\(phone.phone)", "poll": "\(target)"])
            }
        case .pin(let target, let pinned, let seconds)?:
            entry.target = target
            // Anyone in the chat may pin any of its messages.
            if let index = phone.inbox.firstIndex(where: { $0.id == target }) {
                phone.inbox[index].pinnedSeconds = pinned ? seconds : 0
            }
        case .reaction?, nil:
            break
        }
    }

    private static func sameUser(_ device: String, _ sender: JID) -> Bool {
        (try? JID(parsing: device))?.user == sender.user
    }

    /// Sets (or with nil removes) the picture URL the server gives out for `phone`.
    func setProfilePicture(phone: String, url: String?) throws(SimulatorError) {
        if let url, !(url.hasPrefix("https://") || url.hasPrefix("http://")) { throw .badRequest("url must be an http(s) URL") }
        try account(phone).pictureURL = url
    }
}

extension Simulator {
    /// `PUT /admin/phones/:phone/picture`: the URL contacts get for this phone's profile picture.
    package func setProfilePicture(phone: String, url: String?) async throws {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.setProfilePicture(phone: phone, url: url) }) }
    }
}
