import Reactor

/// The parts of a `multipart/form-data` request. A route that takes uploads gets its form parsed
/// by the HTTP server as the body arrives (`Route.takesUploads`: large parts are then spool
/// files); any other request's collected body is parsed here with the same incremental parser,
/// all in memory (it is capped at `BODY_SIZE_LIMIT` already).
enum MultipartForm {
    /// The request's form; nil when its `Content-Type` is not `multipart/form-data`. A body that is
    /// not a well-formed form is a 400, a part the server could not spool a 503.
    static func parts(of request: HTTPRequest) throws(APIError) -> [HTTPFormPart]? {
        if let form = request.form {
            switch form {
            case .parts(let parts): return parts
            case .malformed(let message): throw APIError.badRequest(message)
            case .unstored(let reason): throw APIError(status: 503, message: .string("The upload could not be stored: \(reason)"))
            }
        }
        guard let type = request.head.headers["content-type"] else { return nil }
        switch MultipartParser.formType(contentType: type) {
        case .other: return nil
        case .invalid(let message): throw APIError.badRequest(message)
        case .form(let boundary): return try parse(request.body, boundary: boundary)
        }
    }

    /// Parses a whole body in memory.
    static func parse(_ body: [UInt8], boundary: String) throws(APIError) -> [HTTPFormPart] {
        var parser = MultipartParser(boundary: boundary)
        parser.append(body)
        parser.finish()
        var parts: [HTTPFormPart] = []
        var current: (head: MultipartParser.PartHead, bytes: [UInt8])?
        while let event = parser.next() {
            switch event {
            case .partStart(let head): current = (head, [])
            case .partData(let bytes): current?.bytes += bytes
            case .partEnd:
                if let part = current { parts.append(HTTPFormPart(head: part.head, content: .bytes(part.bytes))) }
                current = nil
            case .end: return parts
            case .failure(let reason): throw APIError.badRequest(MultipartParser.malformed(reason))
            }
        }
        return parts
    }
}
