import Engines
import Reactor

/// Everything a handler sees of one request.
package struct APIContext: Sendable {
    package let request: HTTPRequest
    /// Path parameters by name (`:id` -> `id`), percent-decoded.
    package let parameters: [String: String]
    package let requestID: String
    /// The client address used for IP scopes and rate limits (see `TRUSTED_PROXIES`).
    package let clientIP: String
    /// The authenticated key, when the route needed one or a valid one was presented.
    package var apiKey: ApiKey?

    package var method: String { request.head.method }
    package var path: String { request.head.path }

    package func parameter(_ name: String) -> String { parameters[name] ?? "" }

    /// The session id in path parameter `name`, once the session is known to exist (404 with
    /// OpenWA's message otherwise).
    package func existingSession(_ name: String = "id", in sessions: SessionManager) async throws -> String {
        let id = parameter(name)
        _ = try await sessions.get(id: id)
        return id
    }

    /// The query items, decoded.
    package var query: [(String, String)] { request.head.queryItems() }

    /// The JSON body as an object restricted to `allowed` fields (OpenWA's whitelist
    /// validation): an empty body reads as `{}`; anything but an object, unknown fields, or a NUL
    /// character in a string is a 400.
    package func jsonObject(allowing allowed: Set<String>) throws(APIError) -> JSONValue {
        if let encoding = request.head.headers["content-encoding"], encoding.lowercased() != "identity" {
            throw APIError(status: 415, message: "Compressed request bodies are not supported")
        }
        if request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .object([]) }
        let value: JSONValue
        do {
            value = try JSONParser.parse(request.body)
        } catch {
            throw APIError.badRequest("Invalid JSON body: \(error.message) at offset \(error.offset)")
        }
        guard let keys = value.objectKeys else { throw APIError.badRequest("Request body must be a JSON object") }
        let unknown = keys.filter { !allowed.contains($0) }
        if !unknown.isEmpty { throw APIError.validation(unknown.map { "property \($0) should not exist" }) }
        if containsNUL(value) { throw APIError.badRequest("Request body contains a NUL character") }
        return value
    }

    private func containsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let text): return text.utf8.contains(0)
        case .array(let items): return items.contains(where: containsNUL)
        case .object(let members): return members.contains { $0.0.utf8.contains(0) || containsNUL($0.1) }
        default: return false
        }
    }
}

/// What a handler returns.
package struct APIResponse: Sendable {
    package var status: Int
    package var body: JSONValue?
    package var headers: HTTPHeaders
    /// A non-JSON body (an image, say); its content type is in `headers`.
    package var rawBody: [UInt8]?
    /// A non-JSON body streamed from disk; its content type is in `headers`.
    package var bodyFile: HTTPResponseFile?

    package init(status: Int = 200, body: JSONValue?, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    package static func json(_ body: JSONValue, status: Int = 200) -> APIResponse { APIResponse(status: status, body: body) }
    package static let noContent = APIResponse(status: 204, body: nil)

    /// A response whose body is a file, read from disk as the socket drains.
    package static func file(_ file: HTTPResponseFile, contentType: String, status: Int = 200) -> APIResponse {
        var response = APIResponse(status: status, body: nil)
        response.headers.add("content-type", contentType)
        response.bodyFile = file
        return response
    }

    /// A response with a body that is not JSON.
    package static func bytes(_ body: [UInt8], contentType: String, status: Int = 200) -> APIResponse {
        var response = APIResponse(status: status, body: nil)
        response.headers.add("content-type", contentType)
        response.rawBody = body
        return response
    }
}
