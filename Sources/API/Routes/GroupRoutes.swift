import Engines
import Foundation
import Reactor

/// `/api/sessions/:id/groups…` (reference 2.7): reads need any key, changes an operator's.
/// Group pictures are in `PictureRoutes`.
package enum GroupRoutes {
    private static let base = "/api/sessions/:id/groups"

    package static func routes(sessions: SessionManager) -> [Route] {
        let read = RouteAccess.key(minimum: .viewer, sessionParameter: "id")
        let write = RouteAccess.key(minimum: .operator, sessionParameter: "id")
        @Sendable func groups(_ context: APIContext) async throws -> any GroupOperations {
            try await sessions.groupOperations(id: context.parameter("id"))
        }
        var routes = [
            Route(
                "GET", base, access: read,
                handler: .task { context in
                    let page = try Pagination(context.query, defaultLimit: 1_000, maxLimit: 1_000)
                    let all = try await groups(context).groups()
                    return .json(.array(all.dropFirst(page.offset).prefix(page.limit).map(GroupDTO.summary)))
                }),
            Route(
                "POST", base, access: write,
                handler: .task { context in
                    let body = try context.jsonObject(allowing: ["name", "participants"])
                    var errors: [String] = []
                    let name = GroupDTO.text(body, "name", max: 100, errors: &errors)
                    let participants = GroupDTO.participants(body, errors: &errors)
                    if !errors.isEmpty { throw APIError.validation(errors) }
                    let group = try await groups(context).createGroup(name: name, participants: participants)
                    return .json(
                        [
                            "id": .string(group.id), "name": .string(group.name),
                            "participantsCount": .number(Double(group.participants.count)), "isAdmin": true,
                            "linkedParentJID": group.linkedParentJID.map(JSONValue.string) ?? .null,
                        ], status: 201)
                }),
            Route(
                "GET", base + "/join-info", access: read,
                handler: .task { context in
                    let code = context.query.first { $0.0 == "code" }?.1 ?? ""
                    guard (1...128).contains(code.count) else { throw APIError.validation(["code must be 1 to 128 characters"]) }
                    let group = try await groups(context).groupInviteInfo(code: code)
                    var fields: [(String, JSONValue)] = [("id", .string(group.id)), ("name", .string(group.name))]
                    if let description = group.description { fields.append(("description", .string(description))) }
                    if let owner = group.owner { fields.append(("owner", .string(owner))) }
                    if let createdAt = group.createdAt { fields.append(("createdAt", .number(Double(createdAt)))) }
                    fields.append(("participantCount", .number(Double(group.participants.count))))
                    return .json(.object(fields))
                }),
            Route(
                "POST", base + "/join", access: write,
                handler: .task { context in
                    let body = try context.jsonObject(allowing: ["inviteCode"])
                    var errors: [String] = []
                    let code = GroupDTO.text(body, "inviteCode", max: 128, errors: &errors)
                    if !errors.isEmpty { throw APIError.validation(errors) }
                    let id = try await groups(context).joinGroup(code: code)
                    return .json(["success": true, "groupId": .string(id)])
                }),
            Route(
                "GET", base + "/:groupId", access: read,
                handler: .task { context in
                    .json(GroupDTO.detail(try await groups(context).group(try GroupDTO.groupID(context))))
                }),
            Route(
                "GET", base + "/:groupId/settings", access: read,
                handler: .task { context in
                    .json(GroupDTO.settings(try await groups(context).group(try GroupDTO.groupID(context))))
                }),
            Route(
                "PUT", base + "/:groupId/settings", access: write,
                handler: .task { context in
                    let id = try GroupDTO.groupID(context)
                    let body = try context.jsonObject(allowing: ["announce", "locked", "ephemeralSeconds", "memberAddMode"])
                    try await groups(context).updateGroupSettings(group: id, settings: try GroupDTO.settingsChange(body))
                    return .json(["success": true, "message": "Group settings updated"])
                }),
            Route(
                "PUT", base + "/:groupId/subject", access: write,
                handler: .task { context in
                    let id = try GroupDTO.groupID(context)
                    var errors: [String] = []
                    let subject = GroupDTO.text(try context.jsonObject(allowing: ["subject"]), "subject", max: 100, errors: &errors)
                    if !errors.isEmpty { throw APIError.validation(errors) }
                    try await groups(context).setGroupSubject(group: id, subject: subject)
                    return .json(["success": true, "message": "Group subject updated"])
                }),
            Route(
                "PUT", base + "/:groupId/description", access: write,
                handler: .task { context in
                    let id = try GroupDTO.groupID(context)
                    var errors: [String] = []
                    let body = try context.jsonObject(allowing: ["description"])
                    let description = GroupDTO.text(body, "description", min: 0, max: 1024, errors: &errors)
                    if !errors.isEmpty { throw APIError.validation(errors) }
                    try await groups(context).setGroupDescription(group: id, description: description)
                    return .json(["success": true, "message": "Group description updated"])
                }),
            Route(
                "POST", base + "/:groupId/leave", access: write,
                handler: .task { context in
                    try await groups(context).leaveGroup(try GroupDTO.groupID(context))
                    return .json(["success": true, "message": "Left the group"])
                }),
            Route(
                "GET", base + "/:groupId/invite-code", access: write,
                handler: .task { context in
                    .json(GroupDTO.inviteLink(try await groups(context).groupInviteCode(group: try GroupDTO.groupID(context), revoke: false)))
                }),
            Route(
                "POST", base + "/:groupId/invite-code/revoke", access: write,
                handler: .task { context in
                    let code = try await groups(context).groupInviteCode(group: try GroupDTO.groupID(context), revoke: true)
                    return .json(GroupDTO.inviteLink(code).setting("message", "Invite code revoked and new one generated"))
                }),
        ]
        let changes: [(String, String, ParticipantAction, String)] = [
            ("POST", "/participants", .add, "Participants added"),
            ("DELETE", "/participants", .remove, "Participants removed"),
            ("POST", "/participants/promote", .promote, "Participants promoted to admin"),
            ("POST", "/participants/demote", .demote, "Participants demoted from admin"),
        ]
        for (method, path, action, message) in changes {
            routes.append(
                Route(
                    method, base + "/:groupId" + path, access: write,
                    handler: .task { context in
                        let id = try GroupDTO.groupID(context)
                        var errors: [String] = []
                        let participants = GroupDTO.participants(try context.jsonObject(allowing: ["participants"]), errors: &errors)
                        if !errors.isEmpty { throw APIError.validation(errors) }
                        let results = try await groups(context).updateParticipants(group: id, action: action, participants: participants)
                        if !results.contains(where: \.success) {
                            throw APIError(status: 403, message: .string("No participant could be changed: \(results.compactMap(\.message).joined(separator: "; "))"))
                        }
                        return .json(["success": true, "message": .string(message), "results": .array(results.map(GroupDTO.result))])
                    }))
        }
        routes.append(
            Route(
                "GET", base + "/:groupId/membership-requests", access: read,
                handler: .task { context in
                    let requests = try await groups(context).membershipRequests(group: try GroupDTO.groupID(context))
                    return .json(.array(requests.map(GroupDTO.membershipRequest)))
                }))
        for (decision, approve) in [("approve", true), ("reject", false)] {
            routes.append(
                Route(
                    "POST", base + "/:groupId/membership-requests/" + decision, access: write,
                    handler: .task { context in
                        let id = try GroupDTO.groupID(context)
                        let body = try context.jsonObject(allowing: ["participants"])
                        var errors: [String] = []
                        // No list answers every pending request.
                        let listed = body["participants"].map { $0 != .null } ?? false
                        let participants = listed ? GroupDTO.participants(body, errors: &errors) : nil
                        if !errors.isEmpty { throw APIError.validation(errors) }
                        let results = try await groups(context).answerMembershipRequests(
                            group: id, approve: approve, participants: participants)
                        return .json([
                            "success": true, "message": .string("Membership requests \(approve ? "approved" : "rejected")"),
                            "results": .array(results.map(GroupDTO.result)),
                        ])
                    }))
        }
        return routes
    }
}
