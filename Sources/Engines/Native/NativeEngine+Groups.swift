import Foundation
import Reactor
import WAProtocol

/// Group management over the link's `w:g2` iqs (`NativeGroups.swift`).
extension NativeEngine: GroupOperations {
    private func ref() async throws -> LinkRef {
        try await linkRef()
    }

    static func groupJID(_ id: String) throws -> JID {
        let jid = try NativeLink.recipient(of: id)
        guard jid.server == JID.Server.group else { throw EngineError.invalid("groupId must be a group id such as 120363…@g.us") }
        return jid
    }

    static func memberJIDs(_ ids: [String]) throws -> [JID] {
        try ids.map { id in
            let jid = try NativeLink.recipient(of: id.contains("@") ? id : "\(id)@c.us")
            guard jid.server != JID.Server.group else { throw EngineError.invalid("participants must be user ids, not groups") }
            return jid
        }
    }

    package func groups() async throws -> [GroupInfo] {
        try await ref().joinedGroups()
    }

    package func group(_ id: String) async throws -> GroupInfo {
        do {
            return try await ref().groupInfo(try Self.groupJID(id))
        } catch let error as EngineError where error.kind == .notFound || error.kind == .forbidden {
            // OpenWA does not tell a group we are not in from one that does not exist.
            throw EngineError.notFound("Group \(id) not found")
        }
    }

    package func createGroup(name: String, participants: [String]) async throws -> GroupInfo {
        try await ref().createGroup(subject: name, participants: try Self.memberJIDs(participants))
    }

    package func updateParticipants(group: String, action: ParticipantAction, participants: [String]) async throws -> [ParticipantResult] {
        try await ref().changeParticipants(try Self.groupJID(group), action: action, participants: try Self.memberJIDs(participants))
    }

    package func setGroupSubject(group: String, subject: String) async throws {
        try await ref().setSubject(try Self.groupJID(group), subject)
    }

    package func setGroupDescription(group: String, description: String) async throws {
        try await ref().setDescription(try Self.groupJID(group), description)
    }

    package func updateGroupSettings(group: String, settings: GroupSettingsChange) async throws {
        try await ref().updateSettings(try Self.groupJID(group), settings)
    }

    package func leaveGroup(_ id: String) async throws {
        try await ref().leaveGroup(try Self.groupJID(id))
    }

    package func groupInviteCode(group: String, revoke: Bool) async throws -> String {
        try await ref().inviteCode(try Self.groupJID(group), revoke: revoke)
    }

    package func groupInviteInfo(code: String) async throws -> GroupInfo {
        do {
            return try await ref().inviteInfo(code)
        } catch let error as EngineError where error.kind == .invalid || error.kind == .notFound {
            throw EngineError.notFound("Invite code not found or revoked")
        }
    }

    package func joinGroup(code: String) async throws -> String {
        do {
            return try await ref().join(code: code)
        } catch let error as EngineError where error.kind == .invalid || error.kind == .notFound {
            throw EngineError.notFound("Invite code not found or revoked")
        }
    }
}
