import Engines
import Foundation
import Reactor

/// `/api/sessions/:id/contacts/*` (reference 2.6): the contacts the session's engine has
/// learned, their phone numbers and profile pictures, the "is on WhatsApp" check, the address
/// book and the blocklist.
package enum ContactRoutes {
    /// At most this many ids per `profile-pictures` request, asked this many at a time.
    static let pictureBatch = 50
    static let pictureConcurrency = 3

    package static func routes(sessions: SessionManager) -> [Route] {
        let reader = RouteAccess.key(minimum: .viewer, sessionParameter: "id")
        let writer = RouteAccess.key(minimum: .operator, sessionParameter: "id")
        return blockRoutes(sessions: sessions, reader: reader, writer: writer) + addressBookRoutes(sessions: sessions, writer: writer) + [
            Route(
                "GET", "/api/sessions/:id/contacts/check/:number", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    let raw = context.parameter("number")
                    let digits = raw.filter { !" +-()".contains($0) }
                    guard (6...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                        throw APIError.validation(["number must be 6 to 15 digits in international format"])
                    }
                    let id = try await sessions.checkNumber(id: context.parameter("id"), number: digits)
                    return .json(["number": .string(digits), "exists": .bool(id != nil), "whatsappId": id.map(JSONValue.string) ?? .null])
                }),
            Route("GET", "/api/sessions/:id/contacts", access: reader, handler: .task { context in
                let page = try Pagination(context.query, defaultLimit: 1_000, maxLimit: 1_000)
                let contacts = try await sessions.contacts(id: context.parameter("id"))
                return .json(.array(contacts.dropFirst(page.offset).prefix(page.limit).map(\.json)))
            }),
            Route("GET", "/api/sessions/:id/contacts/profile-pictures", access: reader, handler: .task { context in
                let ids = context.query.filter { $0.0 == "ids" }.flatMap { $0.1.split(separator: ",") }
                    .map { MessageRoutes.normalizedChat($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 != "@c.us" }
                guard !ids.isEmpty else { throw APIError.validation(["ids must list at least one contact id"]) }
                let pictures = try await profilePictures(Array(ids.prefix(pictureBatch)), session: context.parameter("id"), sessions: sessions)
                return .json(["pictures": .object(pictures.map { ($0.0, $0.1.map(JSONValue.string) ?? .null) })])
            }),
            Route("GET", "/api/sessions/:id/contacts/:contactId", access: reader, handler: .task { context in
                let contactID = MessageRoutes.normalizedChat(context.parameter("contactId"))
                guard let contact = try await sessions.contact(id: context.parameter("id"), contactID: contactID) else {
                    throw APIError.notFound("Contact \(contactID) not found")
                }
                return .json(contact.json)
            }),
            Route("GET", "/api/sessions/:id/contacts/:contactId/phone", access: reader, handler: .task { context in
                let contactID = MessageRoutes.normalizedChat(context.parameter("contactId"))
                let contact = try await sessions.contact(id: context.parameter("id"), contactID: contactID)
                // A phone-number id is its own answer; a LID needs what the engine learned.
                let phone = contact?.phone ?? (contactID.hasSuffix("@c.us") ? String(contactID.dropLast(5)) : nil)
                return .json(["contactId": .string(contactID), "phone": phone.map(JSONValue.string) ?? .null])
            }),
            Route("GET", "/api/sessions/:id/contacts/:contactId/profile-picture", access: reader, handler: .task { context in
                let contactID = MessageRoutes.normalizedChat(context.parameter("contactId"))
                let url = try await sessions.profilePictureURL(id: context.parameter("id"), contactID: contactID)
                return .json(["url": url.map(JSONValue.string) ?? .null])
            }),
        ]
    }

    /// `PUT` / `DELETE …/contacts/:contactId`: the account's address book (an app-state change).
    static func addressBookRoutes(sessions: SessionManager, writer: RouteAccess) -> [Route] {
        [
            Route("PUT", "/api/sessions/:id/contacts/:contactId", access: writer, handler: .task { context in
                let contactID = try addressBookID(context)
                var dto = MessageSendDTO(try context.jsonObject(allowing: ["firstName", "lastName"]))
                let firstName = dto.required("firstName", max: 100)
                let lastName = dto.optional("lastName", max: 100)
                try dto.validate()
                try await sessions.chatStateOperations(id: context.parameter("id"))
                    .saveContact(contactID, firstName: firstName, lastName: lastName)
                return .json(["success": true, "message": "Contact saved"])
            }),
            Route("DELETE", "/api/sessions/:id/contacts/:contactId", access: writer, handler: .task { context in
                let contactID = try addressBookID(context)
                try await sessions.chatStateOperations(id: context.parameter("id")).deleteContact(contactID)
                return .json(["success": true, "message": "Contact deleted"])
            }),
        ]
    }

    /// A phone-number contact: groups and LIDs are refused (400), as OpenWA does.
    private static func addressBookID(_ context: APIContext) throws(APIError) -> String {
        let contactID = MessageRoutes.normalizedChat(context.parameter("contactId"))
        guard contactID.hasSuffix("@c.us") else { throw .validation(["contactId must be a phone number contact, not a group or a LID"]) }
        return contactID
    }

    /// `GET …/contacts/blocked`, `POST` / `DELETE …/contacts/:contactId/block`.
    static func blockRoutes(sessions: SessionManager, reader: RouteAccess, writer: RouteAccess) -> [Route] {
        var routes = [
            Route("GET", "/api/sessions/:id/contacts/blocked", access: reader, handler: .task { context in
                .json(.array(try await sessions.blockingOperations(id: context.parameter("id")).blockedContacts().map(JSONValue.string)))
            })
        ]
        for (method, blocked, message) in [("POST", true, "Contact blocked"), ("DELETE", false, "Contact unblocked")] {
            routes.append(
                Route(method, "/api/sessions/:id/contacts/:contactId/block", access: writer, handler: .task { context in
                    let contactID = MessageRoutes.normalizedChat(context.parameter("contactId"))
                    guard !contactID.hasSuffix("@g.us") else { throw APIError.validation(["contactId must be a contact, not a group"]) }
                    try await sessions.blockingOperations(id: context.parameter("id")).setBlocked(contactID, blocked: blocked)
                    return .json(["success": true, "message": .string(message)])
                }))
        }
        return routes
    }

    /// Each id's picture URL, a few lookups at a time; a failed lookup counts as no picture.
    /// A session that is not ready (or unknown) fails the whole request.
    static func profilePictures(_ ids: [String], session: String, sessions: SessionManager) async throws -> [(String, String?)] {
        var found: [String: String?] = [:]
        for start in stride(from: 0, to: ids.count, by: pictureConcurrency) {
            let slice = ids[start..<min(ids.count, start + pictureConcurrency)]
            try await withThrowingTaskGroup(of: (String, String?).self) { group in
                for id in slice {
                    group.addTask {
                        do {
                            return (id, try await sessions.profilePictureURL(id: session, contactID: id))
                        } catch let error as EngineError where error.kind == .unavailable || error.kind == .notFound {
                            return (id, nil)
                        }
                    }
                }
                for try await (id, url) in group { found[id] = url }
            }
        }
        var seen: Set<String> = []
        return ids.filter { seen.insert($0).inserted }.map { ($0, found[$0] ?? nil) }
    }
}
