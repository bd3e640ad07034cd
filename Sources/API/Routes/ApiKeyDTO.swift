import Reactor
import Engines
import Foundation

/// Validation and JSON shapes of the API-key routes (OpenWA's CreateApiKeyDto, UpdateApiKeyDto
/// and ApiKeyResponseDto), with class-validator's style of messages.
enum ApiKeyDTO {
    static let createFields: Set<String> = ["name", "role", "allowedIps", "allowedSessions", "allowedChats", "expiresAt"]
    static let updateFields = createFields

    /// Reads a create or update body; `requireName` is true for create.
    static func changes(from body: JSONValue, requireName: Bool) throws(APIError) -> ApiKeyChanges {
        var errors: [String] = []
        var changes = ApiKeyChanges()
        switch body["name"] {
        case nil:
            if requireName { errors += ["name must be longer than or equal to 3 characters", "name must be a string"] }
        case .string(let name)?:
            let length = name.trimmingCharacters(in: .whitespacesAndNewlines).count
            if length < 3 { errors.append("name must be longer than or equal to 3 characters") }
            if name.count > 100 { errors.append("name must be shorter than or equal to 100 characters") }
            changes.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        default:
            errors.append("name must be a string")
        }
        if let role = body["role"] {
            if let text = role.stringValue, let parsed = ApiKeyRole(rawValue: text) {
                changes.role = parsed
            } else {
                errors.append("role must be one of the following values: admin, operator, viewer")
            }
        }
        changes.allowedIps = list(body, "allowedIps", &errors) { value in
            IPv4Range(value) == nil ? "each value in allowedIps must be an IPv4 address or IPv4 CIDR range" : nil
        }
        changes.allowedSessions = list(body, "allowedSessions", &errors) { value in
            value.isEmpty || value.contains(",") || value.contains(where: \.isWhitespace)
                ? "each value in allowedSessions must be a session id without commas or whitespace" : nil
        }
        if case .some(.some(let sessions)) = changes.allowedSessions, Set(sessions).count != sessions.count {
            errors.append("All allowedSessions's elements must be unique")
        }
        changes.allowedChats = list(body, "allowedChats", &errors) { value in
            ChatID.normalize(value) == nil
                ? "each value in allowedChats must be a group (<id>@g.us), contact (<phone>@c.us, <lid>@lid) or phone number"
                : nil
        }
        if case .some(.some(let chats)) = changes.allowedChats { changes.allowedChats = .some(chats.compactMap(ChatID.normalize)) }
        switch body["expiresAt"] {
        case nil: break
        case .null?: changes.expiresAt = .some(nil)
        case .string(let text)?:
            if let date = ISODate.parse(text) { changes.expiresAt = .some(date) } else { errors.append("expiresAt is not a parseable date") }
        default: errors.append("expiresAt is not a parseable date")
        }
        if !errors.isEmpty { throw .validation(errors) }
        return changes
    }

    /// An optional list of strings; `null` clears it (unrestricted).
    private static func list(
        _ body: JSONValue, _ field: String, _ errors: inout [String], check: (String) -> String?
    ) -> [String]?? {
        guard let value = body[field] else { return nil }
        if value == .null { return .some(nil) }
        guard let items = value.arrayValue else {
            errors.append("\(field) must be an array")
            return nil
        }
        var strings: [String] = []
        for item in items {
            guard let text = item.stringValue else {
                errors.append("each value in \(field) must be a string")
                return nil
            }
            if let problem = check(text) {
                errors.append(problem)
                return nil
            }
            strings.append(text)
        }
        return .some(strings)
    }

    /// ApiKeyResponseDto: null fields omitted; `apiKey` only on creation.
    static func json(_ key: ApiKey, plaintext: String? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(key.id)), ("name", .string(key.name)), ("keyPrefix", .string(key.keyPrefix)),
            ("role", .string(key.role.rawValue)),
        ]
        if let ips = key.allowedIps { members.append(("allowedIps", .array(ips.map(JSONValue.string)))) }
        if let sessions = key.allowedSessions { members.append(("allowedSessions", .array(sessions.map(JSONValue.string)))) }
        if let chats = key.allowedChats { members.append(("allowedChats", .array(chats.map(JSONValue.string)))) }
        members.append(("isActive", .bool(key.isActive)))
        if let expiresAt = key.expiresAt { members.append(("expiresAt", ISODate.json(expiresAt))) }
        members.append(("usageCount", .number(Double(key.usageCount))))
        if let lastUsedAt = key.lastUsedAt { members.append(("lastUsedAt", ISODate.json(lastUsedAt))) }
        members.append(("createdAt", ISODate.json(key.createdAt)))
        members.append(("updatedAt", ISODate.json(key.updatedAt)))
        if let plaintext { members.append(("apiKey", .string(plaintext))) }
        return .object(members)
    }
}

/// WhatsApp chat ids as OpenWA accepts them in `allowedChats`.
enum ChatID {
    /// `<id>@g.us`, `<phone>@c.us`, `<lid>@lid` as given; a bare phone becomes `<phone>@c.us`.
    static func normalize(_ text: String) -> String? {
        let value = text.trimmingCharacters(in: .whitespaces)
        let digits = { (part: Substring) in !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "-") } }
        for suffix in ["@g.us", "@c.us", "@lid"] where value.hasSuffix(suffix) {
            return digits(value.dropLast(suffix.count)) ? value : nil
        }
        var phone = Substring(value)
        if phone.first == "+" { phone = phone.dropFirst() }
        guard phone.count >= 5, phone.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return "\(phone)@c.us"
    }
}
