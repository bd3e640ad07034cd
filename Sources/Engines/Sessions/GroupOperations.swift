import Reactor

/// A group as OpenWA's group routes show it (reference 2.7), in OpenWA's id dialect
/// (`<id>@g.us`, members as `<number>@c.us`).
package struct GroupInfo: Sendable, Equatable {
    package struct Participant: Sendable, Equatable {
        package var id: String
        package var isAdmin: Bool
        package var isSuperAdmin: Bool

        package init(id: String, isAdmin: Bool, isSuperAdmin: Bool) {
            self.id = id
            self.isAdmin = isAdmin
            self.isSuperAdmin = isSuperAdmin
        }

        /// The digits of a phone-number id, or the id's user part.
        package var number: String { String(id.prefix { $0 != "@" }) }
    }

    package var id: String
    package var name: String
    package var description: String?
    package var owner: String?
    /// Unix seconds.
    package var createdAt: Int?
    /// Only admins send messages.
    package var announce: Bool
    /// Only admins edit the group's info.
    package var locked: Bool
    /// `all` or `admins`.
    package var memberAddMode: String?
    package var ephemeralSeconds: Int?
    package var linkedParentJID: String?
    package var participants: [Participant]
    /// WhatsApp's id of the current description (a new one names it as `prev`).
    package var descriptionID: String?

    package init(
        id: String, name: String, description: String? = nil, owner: String? = nil, createdAt: Int? = nil,
        announce: Bool = false, locked: Bool = false, memberAddMode: String? = nil, ephemeralSeconds: Int? = nil,
        linkedParentJID: String? = nil, participants: [Participant] = []
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.owner = owner
        self.createdAt = createdAt
        self.announce = announce
        self.locked = locked
        self.memberAddMode = memberAddMode
        self.ephemeralSeconds = ephemeralSeconds
        self.linkedParentJID = linkedParentJID
        self.participants = participants
    }
}

/// A request to join a group that awaits an admin (OpenWA's membership request).
package struct MembershipRequest: Sendable, Equatable {
    package var participantID: String
    package var addedByID: String?
    /// `invite_link`, `non_admin_add` or `linked_group_join`.
    package var method: String?
    /// Unix seconds.
    package var requestedAt: Int?

    package init(participantID: String, addedByID: String? = nil, method: String? = nil, requestedAt: Int? = nil) {
        self.participantID = participantID
        self.addedByID = addedByID
        self.method = method
        self.requestedAt = requestedAt
    }
}

/// What one participant change did (OpenWA's `ParticipantOperationResult`).
package struct ParticipantResult: Sendable, Equatable {
    package var id: String
    package var success: Bool
    /// WhatsApp's per-participant code when it refused (403 privacy, 409 already a member, ...).
    package var status: Int?
    package var message: String?

    package init(id: String, success: Bool, status: Int? = nil, message: String? = nil) {
        self.id = id
        self.success = success
        self.status = status
        self.message = message
    }
}

package enum ParticipantAction: String, Sendable {
    case add, remove, promote, demote
}

/// The settings a `PUT …/groups/:id/settings` changes; nil leaves one as it is.
package struct GroupSettingsChange: Sendable, Equatable {
    package var announce: Bool?
    package var locked: Bool?
    package var ephemeralSeconds: Int?
    /// `all` or `admins`.
    package var memberAddMode: String?

    package init(announce: Bool? = nil, locked: Bool? = nil, ephemeralSeconds: Int? = nil, memberAddMode: String? = nil) {
        self.announce = announce
        self.locked = locked
        self.ephemeralSeconds = ephemeralSeconds
        self.memberAddMode = memberAddMode
    }
}

/// Group management, for engines that can do it (the routes answer 501 for the others).
package protocol GroupOperations: Sendable {
    func groups() async throws -> [GroupInfo]
    func group(_ id: String) async throws -> GroupInfo
    func createGroup(name: String, participants: [String]) async throws -> GroupInfo
    func updateParticipants(group: String, action: ParticipantAction, participants: [String]) async throws -> [ParticipantResult]
    func setGroupSubject(group: String, subject: String) async throws
    /// An empty description clears it.
    func setGroupDescription(group: String, description: String) async throws
    func updateGroupSettings(group: String, settings: GroupSettingsChange) async throws
    func leaveGroup(_ id: String) async throws
    /// The current invite code, or a new one after revoking the current (`revoke`).
    func groupInviteCode(group: String, revoke: Bool) async throws -> String
    /// What an invite code leads to, without joining.
    func groupInviteInfo(code: String) async throws -> GroupInfo
    /// Joins by invite code; the group's id.
    func joinGroup(code: String) async throws -> String
    /// The group picture's URL, or nil when it has none.
    func groupPictureURL(group: String) async throws -> String?
    /// Sets the group picture to `image` (the file's bytes), or removes it (nil).
    func setGroupPicture(group: String, image: [UInt8]?) async throws
    /// The requests to join that await an admin.
    func membershipRequests(group: String) async throws -> [MembershipRequest]
    /// Approves (`approve`) or rejects requests: those of `participants`, or every pending one (nil).
    func answerMembershipRequests(group: String, approve: Bool, participants: [String]?) async throws -> [ParticipantResult]
}

/// A change to a group the session is in (OpenWA's `group.join`, `group.leave`, `group.update`,
/// `group.join_request` events).
package struct GroupEvent: Sendable, Equatable {
    package var name: String
    package var groupID: String
    package var actorID: String?
    package var participantIDs: [String]
    /// `subject`, `description`, `announce`, `locked`, `admin`, `picture` for `group.update`.
    package var changes: JSONValue?
    /// Unix seconds.
    package var timestamp: Int

    package init(name: String, groupID: String, actorID: String?, participantIDs: [String], changes: JSONValue?, timestamp: Int) {
        self.name = name
        self.groupID = groupID
        self.actorID = actorID
        self.participantIDs = participantIDs
        self.changes = changes
        self.timestamp = timestamp
    }

    package var json: JSONValue {
        var data: JSONValue = [
            "groupId": .string(groupID), "actorId": actorID.map(JSONValue.string) ?? .null,
            "participantIds": .array(participantIDs.map(JSONValue.string)), "timestamp": .number(Double(timestamp)),
        ]
        if let changes { data = data.setting("changes", changes) }
        return data
    }
}
