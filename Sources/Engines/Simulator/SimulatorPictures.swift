import Foundation
import Reactor
import WAProtocol

/// Profile and group pictures as the server keeps them (`w:profile:picture` iqs, reference
/// part 2, 3.6): a companion reads a contact's or a group's picture URL, and sets or removes
/// its account's or a group's picture. The image is kept on the media host; group members hear
/// of a change through `<notification type="picture">`.
extension SimulatorCore {
    /// Sets (`image`) or removes (nil) a group's picture: members unless the group is locked,
    /// then admins (as for the subject). Answers the new picture's id.
    @discardableResult
    func setGroupPicture(_ group: SimulatorGroup, actor: String, image: [UInt8]?, except: Companion?) throws(SimulatorError) -> String? {
        try requireInfoEditor(group, actor)
        let author = JID(user: actor, server: JID.Server.user)
        guard let image else {
            guard group.picture != nil else { return nil }
            group.picture = nil
            notifyGroup(
                group, actor: actor, affected: [], change: BinaryNode("delete", ["jid": .jid(group.jid), "author": .jid(author)]),
                except: except, type: "picture")
            return nil
        }
        let id = String(Int.random(in: 1_000_000_000...9_999_999_999))
        group.picture = (id, media.storePicture(image))
        notifyGroup(
            group, actor: actor, affected: [],
            change: BinaryNode("set", ["jid": .jid(group.jid), "id": .string(id), "author": .jid(author)]), except: except, type: "picture")
        return id
    }

    /// The account's own picture; its id is derived from the URL, as the `get` answers it.
    func setOwnPicture(_ account: Account, image: [UInt8]?) -> String? {
        account.pictureURL = image.map(media.storePicture)
        return account.pictureURL.map(Self.pictureID)
    }

    static func pictureID(_ url: String) -> String { Crypto.hex(Crypto.sha256(Array(url.utf8)).prefix(6)) }
}

extension SimulatorConnection {
    /// `<iq xmlns="w:profile:picture" type="get" target=…>`: `<picture id url direct_path/>`, or
    /// `<picture><error code="404"/></picture>` for no picture or an unknown account. A group's
    /// picture is for its members only (403).
    func answerProfilePicture(_ node: BinaryNode) {
        let target = node.attributes.jid("target")
        let missing = BinaryNode("picture", children: [BinaryNode("error", ["code": "404", "text": "item-not-found"])])
        var found: (id: String, url: String)?
        if let target, target.server == JID.Server.group {
            guard let group = try? core.group(target.user) else { return error(node, code: 404, text: "item-not-found") }
            guard let account, group.role(of: account.phone) != nil else { return error(node, code: 403, text: "forbidden") }
            found = group.picture
        } else if let target, let url = core.accounts[target.user]?.pictureURL {
            found = (SimulatorCore.pictureID(url), url)
        }
        guard let found else { return result(node, [missing]) }
        let attributes: NodeAttributes = ["id": .string(found.id), "type": "image", "url": .string(found.url), "direct_path": "/v/sim"]
        result(node, [BinaryNode("picture", attributes)])
    }

    /// `<iq xmlns="status" type="set"><status>text</status></iq>`: the account's about text
    /// (at most 139 characters, as WhatsApp keeps it; empty clears it).
    func answerSetAbout(_ node: BinaryNode) {
        guard let account else { return error(node, code: 401, text: "not-authorized") }
        guard let status = node.child("status"), let text = String(validating: status.contentBytes ?? [], as: UTF8.self),
            text.count <= 139
        else { return error(node, code: 400, text: "bad-request") }
        account.about = text.isEmpty ? nil : text
        result(node)
    }

    /// `<iq xmlns="w:profile:picture" type="set" [target]>[<picture type="image">bytes</picture>]`:
    /// a group's picture when `target` is a group, else the account's own; no picture removes it.
    func answerSetPicture(_ node: BinaryNode) {
        guard let account else { return error(node, code: 401, text: "not-authorized") }
        let image = node.child("picture")?.contentBytes
        if let image, image.isEmpty { return error(node, code: 400, text: "bad-request") }
        let target = node.attributes.jid("target")
        let id: String?
        if let target, target.server == JID.Server.group {
            do throws(SimulatorError) {
                let group = try core.group(target.user)
                try core.requireMember(group, account.phone)
                id = try core.setGroupPicture(group, actor: account.phone, image: image, except: companion)
            } catch {
                return self.error(node, code: error.status, text: error.message)
            }
        } else if target == nil || target?.user == account.phone {
            id = core.setOwnPicture(account, image: image)
        } else {
            return error(node, code: 403, text: "forbidden")
        }
        result(node, id.map { [BinaryNode("picture", ["id": .string($0)])] })
    }
}

extension Simulator {
    /// A member (`actor`) sets or removes a group's picture, as its phone would.
    package func setGroupPicture(_ id: String, actor: String, image: [UInt8]?) async throws {
        _ = try await call { core, done in
            done(
                Result { () throws(SimulatorError) in
                    try core.setGroupPicture(try core.group(id), actor: actor, image: image, except: nil)
                })
        }
    }

    /// The bytes the media host serves at a picture URL it handed out.
    package func picture(at url: String) async throws -> [UInt8]? {
        try await call { core, done in
            let path = URLComponents(string: url)?.path ?? ""
            done(.success(core.media.blob(directPath: path)))
        }
    }

    /// The URL the server gives out for a phone's own picture.
    package func profilePictureURL(of phone: String) async throws -> String? {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.account(phone).pictureURL }) }
    }
}
