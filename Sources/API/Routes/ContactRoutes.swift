import Engines
import Foundation
import Reactor

/// `/api/sessions/:id/contacts/*` (reference 2.6). So far the "is on WhatsApp" check; the other
/// contact routes answer 404 until the engines keep contacts.
package enum ContactRoutes {
    package static func routes(sessions: SessionManager) -> [Route] {
        [
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
                })
        ]
    }
}
