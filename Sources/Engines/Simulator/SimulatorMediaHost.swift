import Foundation
import Reactor
import WAProtocol

/// The simulator's media server (protocol reference part 2, sections 5.3-5.5), served on the
/// same TLS listener as `/ws/chat`, so a client that trusts the simulator for the chat socket
/// trusts it for media too. `media_conn` hands out one auth token and this listener as the only
/// host; `POST /mms/<type>/<token>?auth=…` stores an encrypted blob after checking the token and
/// that the blob's SHA-256 is the token; `GET <direct_path>` serves it back. Reactor thread only.
final class SimulatorMediaHost {
    /// How long a `media_conn` answer may be cached, in seconds.
    static let ttlSeconds = 300
    /// The auth token uploads must carry; fresh per simulator run.
    let authToken: String
    /// `localhost:<port>` of the TLS listener, set once it is bound.
    var hostname = "localhost"
    /// Encrypted blobs by their direct path (without the query).
    private(set) var blobs: [String: [UInt8]] = [:]
    /// Downloads still to be corrupted (one byte flipped), a fault for validation tests.
    var corruptDownloads = 0
    /// Uploads still to be refused with a 500, a fault for upload-failure tests.
    var rejectUploads = 0
    /// Downloads still to find their blob expired: the host forgets it and answers 404; the
    /// sending phone still has its copy and can upload it again (section 5.7).
    var expireDownloads = 0
    /// Like `expireDownloads`, and the phone's copy is gone too: a re-upload request fails.
    var loseDownloads = 0
    /// Uploads seen, for tests.
    private(set) var uploadCount = 0
    /// The phones' own copies of the blobs they uploaded, by first direct path.
    private var phoneCopies: [String: [UInt8]] = [:]

    init() {
        authToken = Data(((try? Crypto.randomBytes(24)) ?? Array(UUID().uuidString.utf8))).base64URLEncoded
    }

    /// The `<media_conn>` of an iq result.
    func mediaConnNode() -> BinaryNode {
        BinaryNode(
            "media_conn",
            [
                "auth": .string(authToken), "ttl": .string(String(Self.ttlSeconds)), "auth_ttl": .string(String(Self.ttlSeconds)),
                "max_buckets": "1",
            ],
            children: [BinaryNode("host", ["hostname": .string(hostname)])])
    }

    func handles(_ path: String) -> Bool { path.hasPrefix("/mms/") || path.hasPrefix("/v/") }

    func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        let head = request.head
        switch head.method {
        case "POST" where head.path.hasPrefix("/mms/"):
            if rejectUploads > 0 {
                rejectUploads -= 1
                return sink.send(Self.text(500, "upload refused (injected fault)"))
            }
            sink.send(upload(path: head.path, query: head.query ?? "", body: request.body))
        case "GET" where head.path.hasPrefix("/v/"):
            if blobs[head.path] != nil, expireDownloads > 0 || loseDownloads > 0 {
                if expireDownloads > 0 { expireDownloads -= 1 } else {
                    loseDownloads -= 1
                    phoneCopies[head.path] = nil
                }
                blobs[head.path] = nil
            }
            guard var blob = blobs[head.path] else { return sink.send(Self.text(404, "no such media")) }
            if corruptDownloads > 0, !blob.isEmpty {
                corruptDownloads -= 1
                blob[blob.count / 2] ^= 0x01
            }
            sink.send(HTTPResponse(status: 200, headers: HTTPHeaders([("content-type", "application/octet-stream")]), body: blob))
        default:
            sink.send(Self.text(405, "method not allowed"))
        }
    }

    /// Stores a blob the phone itself encrypted (it is part of the simulator): its direct path.
    /// The phone keeps a copy for re-uploads.
    func store(_ blob: [UInt8], type: String) -> String {
        let token = Data(Crypto.sha256(blob)).base64URLEncoded
        let path = "/v/t62.sim-\(type)/\(token).enc"
        blobs[path] = blob
        phoneCopies[path] = blob
        uploadCount += 1
        return path
    }

    /// A profile or group picture as WhatsApp's picture host serves it (plain bytes, not an
    /// upload): the URL it is fetched from.
    func storePicture(_ image: [UInt8]) -> String {
        let path = "/v/t61.sim-picture/\(Data(Crypto.sha256(image)).base64URLEncoded).jpg"
        blobs[path] = image
        return "https://\(hostname)\(path)"
    }

    /// The phone uploads its copy of the blob first stored at `directPath` again: the new direct
    /// path (a fresh one, as WhatsApp's), or nil when the phone has no copy.
    func reupload(_ directPath: String, type: String) -> String? {
        guard let copy = phoneCopies[directPath] else { return nil }
        uploadCount += 1
        let token = Data(Crypto.sha256(copy)).base64URLEncoded
        let path = "/v/t62.sim-\(type)/\(token)-\(uploadCount).enc"
        blobs[path] = copy
        return path
    }

    /// A blob by the direct path a message names (extra query parameters are ignored).
    func blob(directPath: String) -> [UInt8]? {
        blobs[String(directPath.prefix { $0 != "?" })]
    }

    private func upload(path: String, query: String, body: [UInt8]) -> HTTPResponse {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count == 3, let type = parts.dropFirst().first, !type.isEmpty else { return Self.text(404, "no such upload path") }
        let parameters = Self.query(query)
        guard parameters["auth"] == authToken else { return Self.text(401, "bad auth token") }
        // whatsmeow keeps the base64 padding, Baileys strips it: both are accepted.
        let token = parts[2]
        guard let expected = Data(base64URLEncodedTolerant: token), Array(expected) == Crypto.sha256(body) else {
            return Self.text(400, "the body's SHA-256 is not the token")
        }
        let directPath = store(body, type: type)
        let json: [String: String] = [
            "url": "https://\(hostname)\(directPath)", "direct_path": directPath, "handle": UUID().uuidString,
            "object_id": String(uploadCount),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data("{}".utf8)
        return HTTPResponse(status: 200, headers: HTTPHeaders([("content-type", "application/json")]), body: Array(data))
    }

    private static func query(_ query: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard let key = kv.first else { continue }
            result[key] = (kv.count > 1 ? kv[1] : "").removingPercentEncoding ?? ""
        }
        return result
    }

    private static func text(_ status: Int, _ message: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("content-type", "text/plain")]), body: Array((message + "\n").utf8))
    }
}

/// Faults of the media host (admin `POST /admin/media/faults`).
package enum MediaFault: String, Sendable {
    /// Flip one byte of each of the next downloads.
    case corruptDownload = "corrupt-download"
    /// Answer the next uploads with HTTP 500.
    case rejectUpload = "reject-upload"
    /// The next downloads find the blob expired (404); the sending phone can upload it again.
    case expireDownload = "expire-download"
    /// The next downloads find the blob gone, and the sending phone has lost it too.
    case loseMedia = "lose-media"
}

extension Data {
    /// Base64 with the URL alphabet and no padding.
    var base64URLEncoded: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes base64url with or without padding.
    init?(base64URLEncodedTolerant text: String) {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            .replacingOccurrences(of: "%3D", with: "=")
        standard = standard.replacingOccurrences(of: "=", with: "")
        while standard.count % 4 != 0 { standard += "=" }
        self.init(base64Encoded: standard)
    }
}
