import Foundation
internal import Glibc

/// A `multipart/form-data` request body the server parsed as it arrived instead of collecting it
/// (see `HTTPResponder.bodyHandling(for:)`): the small parts in memory, the large ones in spool
/// files, or why the body could not be taken.
package enum HTTPStreamedForm: Sendable {
    case parts([HTTPFormPart])
    /// Not a well-formed form; the message is for the client (a 400).
    case malformed(String)
    /// A part could not be written to disk (a server-side failure).
    case unstored(String)
}

/// One part of a streamed form.
package struct HTTPFormPart: Sendable {
    package enum Content: Sendable {
        case bytes([UInt8])
        case file(HTTPUploadFile)
    }

    package var head: MultipartParser.PartHead
    package var content: Content

    package init(head: MultipartParser.PartHead, content: Content) {
        self.head = head
        self.content = content
    }

    package var name: String { head.name }
    package var filename: String? { head.filename }
    package var contentType: String? { head.contentType }

    /// Bytes in the part, wherever they are.
    package var length: Int {
        switch content {
        case .bytes(let bytes): return bytes.count
        case .file(let file): return file.length
        }
    }
}

/// A complete spool file holding one uploaded part. It is removed when the last reference goes,
/// so every way a request ends (answered, refused, the connection gone) cleans up after itself;
/// the unlink runs on a worker lane, never on whichever thread let go.
package final class HTTPUploadFile: Sendable {
    package let path: String
    package let length: Int
    private let lane: WorkerLane

    init(path: String, length: Int, lane: WorkerLane) {
        self.path = path
        self.length = length
        self.lane = lane
    }

    /// The prefix of upload spool file names, for sweeping what a killed process left behind.
    package static let namePrefix = "openwa-upload-"

    /// A fresh spool file path in `directory`; nothing is created yet.
    static func freshPath(in directory: String) -> String {
        (directory as NSString).appendingPathComponent(namePrefix + UUID().uuidString)
    }

    deinit {
        let path = self.path
        lane.submit({ _ = unlink(path) }, completion: { _ in })
    }
}

/// How the server takes a request's body, as its responder decides from the head.
package enum HTTPBodyHandling: Sendable {
    /// Collected whole in memory (up to the body limit) into `HTTPRequest.body`.
    case collect
    /// When the body is `multipart/form-data`, parsed as it arrives into `HTTPRequest.form`
    /// (`body` stays empty); any other body is collected.
    case multipartForm
}
