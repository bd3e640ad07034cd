import Foundation
import Reactor
import WAProtocol

/// Admin routes for groups: a phone creates one, changes its members or subject, and a test
/// reads a group's state (`/admin/phones/:phone/groups`, `/admin/groups/:id…`).
extension SimulatorAdmin {
    private struct CreateGroup: Decodable {
        let subject: String
        let members: [String]?
    }
    private struct Participants: Decodable {
        let actor: String
        let action: String
        let participants: [String]
    }
    private struct Subject: Decodable {
        let actor: String
        let subject: String
    }
    private struct Join: Decodable { let code: String }
    private struct Approval: Decodable {
        let actor: String
        let on: Bool
    }
    private struct Picture: Decodable {
        let actor: String
        /// The image, base64; null removes the picture.
        let data: String?
    }

    /// `POST /admin/phones/:phone/groups/join`: the phone follows an invite link.
    func joinGroup(_ core: SimulatorCore, phone: String, body: [UInt8]) throws(SimulatorError) -> HTTPResponse {
        let request = try Self.decode(Join.self, body)
        _ = try core.account(phone)
        let joined = try core.join(inviteCode: request.code, phone: phone, except: nil)
        return Self.encoded(200, JoinOutcome(group: joined.group.jid.description, pending: joined.pending))
    }

    func createGroup(_ core: SimulatorCore, phone: String, body: [UInt8]) throws(SimulatorError) -> HTTPResponse {
        let request = try Self.decode(CreateGroup.self, body)
        return Self.encoded(201, try core.createGroup(by: phone, subject: request.subject, members: request.members ?? []))
    }

    /// `GET /admin/groups/:id`, `POST …/participants`, `PUT …/subject`, `…/approval`, `…/picture`.
    func groupRoute(_ core: SimulatorCore, method: String, route: [String], body: [UInt8]) throws(SimulatorError) -> HTTPResponse {
        switch (method, route.count, route.count > 2 ? route[2] : "") {
        case ("GET", 2, _):
            return Self.encoded(200, try core.groupSnapshot(route[1]))
        case ("POST", 3, "participants"):
            let request = try Self.decode(Participants.self, body)
            let results = try core.changeParticipants(
                try core.group(route[1]), actor: request.actor, action: request.action, phones: request.participants, except: nil)
            return Self.encoded(200, results.map { ParticipantOutcome(phone: $0.phone, error: $0.error) })
        case ("PUT", 3, "approval"):
            let request = try Self.decode(Approval.self, body)
            try core.setJoinApproval(try core.group(route[1]), actor: request.actor, on: request.on)
            return HTTPResponse(status: 204)
        case ("PUT", 3, "picture"):
            let request = try Self.decode(Picture.self, body)
            var image: [UInt8]?
            if let data = request.data {
                guard let bytes = Data(base64Encoded: data), !bytes.isEmpty else { throw .badRequest("data must be base64 of an image") }
                image = Array(bytes)
            }
            try core.setGroupPicture(try core.group(route[1]), actor: request.actor, image: image, except: nil)
            return HTTPResponse(status: 204)
        case ("PUT", 3, "subject"):
            let request = try Self.decode(Subject.self, body)
            try core.setSubject(try core.group(route[1]), actor: request.actor, subject: request.subject, except: nil)
            return HTTPResponse(status: 204)
        default:
            throw .notFound("no route \(method) /admin/\(route.joined(separator: "/"))")
        }
    }
}

/// One phone's outcome of an admin participant change.
package struct ParticipantOutcome: Sendable, Equatable, Codable {
    package let phone: String
    /// WhatsApp's refusal code, or nil when the change was made.
    package let error: Int?
}

extension Simulator {
    /// The phone creates a group with the other phones in `members`.
    package func createGroup(by phone: String, subject: String, members: [String]) async throws -> GroupSnapshot {
        try await call { core, done in
            done(Result { () throws(SimulatorError) in try core.createGroup(by: phone, subject: subject, members: members) })
        }
    }

    package func group(_ id: String) async throws -> GroupSnapshot {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.groupSnapshot(id) }) }
    }

    /// A member (`actor`) adds, removes, promotes or demotes phones; each gets nil or a refusal code.
    package func changeGroupParticipants(_ id: String, actor: String, action: String, phones: [String]) async throws
        -> [ParticipantOutcome]
    {
        try await call { core, done in
            done(
                Result { () throws(SimulatorError) in
                    try core.changeParticipants(try core.group(id), actor: actor, action: action, phones: phones, except: nil)
                        .map { ParticipantOutcome(phone: $0.phone, error: $0.error) }
                })
        }
    }

    package func setGroupSubject(_ id: String, actor: String, subject: String) async throws {
        try await call { core, done in
            done(Result { () throws(SimulatorError) in try core.setSubject(try core.group(id), actor: actor, subject: subject, except: nil) })
        }
    }

    /// An admin (`actor`) turns a setting on or off: `announcement`, `not_announcement`, `locked`, `unlocked`.
    package func setGroupSetting(_ id: String, actor: String, setting: String) async throws {
        try await call { core, done in
            done(
                Result { () throws(SimulatorError) in
                    try core.setSetting(try core.group(id), actor: actor, setting: BinaryNode(setting), except: nil)
                })
        }
    }

    /// The phone loses every Signal session (restored from an old backup, say): what companions
    /// send it next fails until they start new sessions through retry receipts.
    package func dropSessions(of phone: String) async throws {
        try await call { core, done in
            done(
                Result { () throws(SimulatorError) in
                    do { try core.account(phone).signal().forgetAllSessions() } catch let error as SimulatorError { throw error } catch {
                        throw SimulatorError(500, "no Signal state")
                    }
                })
        }
    }

    /// The phone forgets the sender keys members handed it: their next group message fails
    /// until they hand the key again through a retry receipt.
    package func dropSenderKeys(of phone: String) async throws {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.dropSenderKeys(of: phone) }) }
    }

    /// The phone sends companion `device` of `sender` a retry receipt numbered `count` for message
    /// `id` (in `group`, or in their chat), whether or not it failed to read it. False when that
    /// companion is offline.
    package func askAgain(phone: String, sender: String, device: UInt16, id: String, group: String?, count: Int) async throws -> Bool {
        try await call { core, done in
            done(
                Result { () throws(SimulatorError) in
                    try core.askAgain(phone: phone, sender: sender, device: device, id: id, group: group, count: count)
                })
        }
    }
}
