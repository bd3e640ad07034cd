import Reactor

/// The one error type of the API module: an HTTP status with OpenWA's error body
/// `{"statusCode":…, "message":…, "error":…}` (message a string, or a list for validation).
package struct APIError: Error, Sendable {
    package let status: Int
    package let message: JSONValue
    /// A stable machine code some OpenWA errors carry (`code`).
    package let code: String?
    package var headers: HTTPHeaders
    /// More members of the body, after `code` (`validOptions` of POLL_OPTION_NOT_FOUND).
    package var details: [(String, JSONValue)] = []

    package init(status: Int, message: JSONValue, code: String? = nil, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers
    }

    package static func badRequest(_ message: String) -> APIError { APIError(status: 400, message: .string(message)) }
    package static func validation(_ messages: [String]) -> APIError {
        APIError(status: 400, message: .array(messages.map(JSONValue.string)))
    }
    package static func unauthorized(_ message: String) -> APIError { APIError(status: 401, message: .string(message)) }
    package static func forbidden(_ message: String) -> APIError { APIError(status: 403, message: .string(message)) }
    package static func notFound(_ message: String) -> APIError { APIError(status: 404, message: .string(message)) }
    package static func conflict(_ message: String) -> APIError { APIError(status: 409, message: .string(message)) }
    package static func unavailable(_ message: String) -> APIError { APIError(status: 503, message: .string(message)) }
    package static func notImplemented(_ message: String) -> APIError { APIError(status: 501, message: .string(message)) }
    package static func `internal`(requestID: String) -> APIError {
        APIError(status: 500, message: .string("Internal server error (request \(requestID))"))
    }

    /// The JSON body. With validation detail off (production) a 400 says only "Bad Request",
    /// as OpenWA does.
    package func body(validationDetail: Bool) -> JSONValue {
        var members: [(String, JSONValue)] = [("statusCode", .number(Double(status)))]
        if status == 400, !validationDetail, case .array = message {
            members.append(("message", "Bad Request"))
            return .object(members)
        }
        members.append(("message", message))
        members.append(("error", .string(HTTPStatusText.reason(status))))
        if let code { members.append(("code", .string(code))) }
        members += details
        return .object(members)
    }

    /// The response for this error.
    package func response(validationDetail: Bool = true) -> HTTPResponse {
        var headers = self.headers
        headers.replaceOrAdd("content-type", "application/json; charset=utf-8")
        return HTTPResponse(status: status, headers: headers, body: JSONWriter.bytes(body(validationDetail: validationDetail)))
    }
}
