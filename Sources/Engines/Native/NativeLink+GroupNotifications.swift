import Foundation
import Logging
import Reactor
import WAProtocol

/// `<notification type="w:gp2">` (reference part 2, 6.4): the group's cached metadata is dropped,
/// each change becomes OpenWA's `group.*` event, and when a member leaves we start a new sender
/// chain so the one who left cannot read what follows (section 6.3).
extension NativeLink {
    func handleGroupNotification(_ node: BinaryNode) {
        guard let group = node.attributes.jid("from"), group.server == JID.Server.group else { return }
        groupCache[group.bare.description] = nil
        let actor = node.attributes.jid("participant").map { Self.neutral($0.bare) }
        let timestamp = node.attributes.string("t").flatMap(Int.init) ?? Int(Date().timeIntervalSince1970)
        let me = credentials?.me
        for change in node.children {
            let members = (change.tag == "create" ? change.child("group") ?? change : change).children("participant").compactMap {
                $0.attributes.jid("jid")?.bare
            }
            if change.tag == "remove", let me, members.contains(where: { $0.user != me.user }) {
                rotateSenderKey(group: group.bare, me: me)
            }
            guard let (name, changes) = Self.groupEventKind(change) else { continue }
            emit(
                .group(
                    GroupEvent(
                        name: name, groupID: Self.neutral(group.bare), actorID: actor, participantIDs: members.map(Self.neutral),
                        changes: changes, timestamp: timestamp)))
        }
    }

    /// OpenWA's event name and `changes` for one child of the notification; nil for kinds it has no event for.
    static func groupEventKind(_ change: BinaryNode) -> (String, JSONValue?)? {
        switch change.tag {
        case "create", "add": return ("group.join", nil)
        case "remove": return ("group.leave", nil)
        case "promote": return ("group.update", ["admin": true])
        case "demote": return ("group.update", ["admin": false])
        case "subject": return ("group.update", ["subject": .string(change.attributes.string("subject") ?? "")])
        case "description":
            let body = change.child("body")?.contentBytes.map { String(decoding: $0, as: UTF8.self) } ?? ""
            return ("group.update", ["description": .string(body)])
        case "announcement", "not_announcement": return ("group.update", ["announce": .bool(change.tag == "announcement")])
        case "locked", "unlocked": return ("group.update", ["locked": .bool(change.tag == "locked")])
        case "created_membership_requests": return ("group.join_request", nil)
        default: return nil
        }
    }

    /// Drops our chain for the group as a Signal job, after any send already queued.
    private func rotateSenderKey(group: JID, me: JID) {
        enqueueSignalJob { link, done in
            guard let signal = link.signalContext() else { return done() }
            link.runAsync({ try await signal.rotateSenderKey(group: group, me: me) }) { link, result in
                if case .failure(let error) = result {
                    link.logger.warning("sender key not rotated", metadata: ["group": "\(group)", "error": "\(error)"])
                }
                done()
            }
        }
    }
}
