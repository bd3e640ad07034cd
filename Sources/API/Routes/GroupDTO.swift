import Engines
import Foundation
import Reactor

/// Checks and JSON shapes of the group routes (reference 2.7). Lengths count UTF-16 units, as
/// JavaScript's do; all errors of a body are reported together.
enum GroupDTO {
    static let groupIDPattern = #"^[0-9][0-9-]*@g\.us$"#
    static let participantPattern = #"^[0-9]{6,15}(@c\.us|@s\.whatsapp\.net)?$|^[0-9]+@lid$"#

    static func groupID(_ context: APIContext) throws(APIError) -> String {
        let id = context.parameter("groupId")
        guard id.range(of: groupIDPattern, options: .regularExpression) != nil else {
            throw APIError.validation(["groupId must be a group id such as 120363012345678901@g.us"])
        }
        return id
    }

    /// `participants`: 1 to 256 user ids (`<number>`, `<number>@c.us` or `<lid>@lid`).
    static func participants(_ body: JSONValue, errors: inout [String]) -> [String] {
        guard let list = body["participants"]?.arrayValue else {
            errors.append("participants must be an array")
            return []
        }
        let ids = list.compactMap(\.stringValue)
        if ids.count != list.count { errors.append("each value in participants must be a string") }
        if !(1...256).contains(list.count) { errors.append("participants must contain 1 to 256 ids") }
        for id in ids where id.range(of: participantPattern, options: .regularExpression) == nil {
            errors.append("participants must be WhatsApp user ids such as 15551234567@c.us (got \(id))")
        }
        return ids
    }

    /// A string of `1...max` UTF-16 units (`min` 0 lets it be empty).
    static func text(_ body: JSONValue, _ name: String, min: Int = 1, max: Int, errors: inout [String]) -> String {
        guard let text = body[name]?.stringValue else {
            errors.append("\(name) must be a string")
            return ""
        }
        if text.utf16.count < min { errors.append("\(name) should not be empty") }
        if text.utf16.count > max { errors.append("\(name) must be shorter than or equal to \(max) characters") }
        return text
    }

    static func summary(_ group: GroupInfo) -> JSONValue {
        ["id": .string(group.id), "name": .string(group.name), "linkedParentJID": group.linkedParentJID.map(JSONValue.string) ?? .null]
    }

    static func detail(_ group: GroupInfo) -> JSONValue {
        var fields: [(String, JSONValue)] = [("id", .string(group.id)), ("name", .string(group.name))]
        if let description = group.description { fields.append(("description", .string(description))) }
        if let owner = group.owner { fields.append(("owner", .string(owner))) }
        if let createdAt = group.createdAt { fields.append(("createdAt", .number(Double(createdAt)))) }
        fields += [
            ("isReadOnly", .bool(group.announce)), ("isAnnounce", .bool(group.announce)),
            ("linkedParentJID", group.linkedParentJID.map(JSONValue.string) ?? .null),
            (
                "participants",
                .array(
                    group.participants.map {
                        [
                            "id": .string($0.id), "number": .string($0.number), "isAdmin": .bool($0.isAdmin),
                            "isSuperAdmin": .bool($0.isSuperAdmin),
                        ]
                    })
            ),
        ]
        return .object(fields)
    }

    static func settings(_ group: GroupInfo) -> JSONValue {
        var fields: [(String, JSONValue)] = [("announce", .bool(group.announce)), ("locked", .bool(group.locked))]
        if let seconds = group.ephemeralSeconds { fields.append(("ephemeralSeconds", .number(Double(seconds)))) }
        if let mode = group.memberAddMode { fields.append(("memberAddMode", .string(mode))) }
        return .object(fields)
    }

    /// `PUT …/settings`: at least one known field, each of the right type.
    static func settingsChange(_ body: JSONValue) throws(APIError) -> GroupSettingsChange {
        var errors: [String] = []
        var change = GroupSettingsChange()
        for name in ["announce", "locked"] {
            guard let value = body[name], value != .null else { continue }
            guard let flag = value.boolValue else {
                errors.append("\(name) must be a boolean value")
                continue
            }
            if name == "announce" { change.announce = flag } else { change.locked = flag }
        }
        if let value = body["ephemeralSeconds"], value != .null {
            if let seconds = value.intValue, [0, 86_400, 604_800, 7_776_000].contains(seconds) {
                change.ephemeralSeconds = seconds
            } else {
                errors.append("ephemeralSeconds must be one of the following values: 0, 86400, 604800, 7776000")
            }
        }
        if let value = body["memberAddMode"], value != .null {
            if let mode = value.stringValue, ["all", "admins"].contains(mode) {
                change.memberAddMode = mode
            } else {
                errors.append("memberAddMode must be one of the following values: all, admins")
            }
        }
        if errors.isEmpty, change == GroupSettingsChange() {
            errors.append("at least one of announce, locked, ephemeralSeconds, memberAddMode is required")
        }
        if !errors.isEmpty { throw APIError.validation(errors) }
        return change
    }

    static func result(_ result: ParticipantResult) -> JSONValue {
        var fields: [(String, JSONValue)] = [("id", .string(result.id)), ("success", .bool(result.success))]
        if let status = result.status { fields.append(("status", .number(Double(status)))) }
        if let message = result.message { fields.append(("message", .string(message))) }
        return .object(fields)
    }

    /// OpenWA's membership request: `{participantId, addedById?, method?, requestedAt?}` (seconds).
    static func membershipRequest(_ request: MembershipRequest) -> JSONValue {
        var fields: [(String, JSONValue)] = [("participantId", .string(request.participantID))]
        if let addedBy = request.addedByID { fields.append(("addedById", .string(addedBy))) }
        if let method = request.method { fields.append(("method", .string(method))) }
        if let requestedAt = request.requestedAt { fields.append(("requestedAt", .number(Double(requestedAt)))) }
        return .object(fields)
    }

    static func inviteLink(_ code: String) -> JSONValue {
        ["inviteCode": .string(code), "inviteLink": .string("https://chat.whatsapp.com/\(code)")]
    }
}
