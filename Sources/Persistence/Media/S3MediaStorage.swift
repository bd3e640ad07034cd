import Foundation
import Reactor

/// Media in an S3 bucket over our own HTTP client (http for a local server, https otherwise),
/// signed with SigV4 (`S3Signer`). Path-style (`<endpoint>/<bucket>/<key>`) whenever an endpoint
/// is configured, virtual-hosted (`<bucket>.s3.<region>.amazonaws.com/<key>`) on AWS itself.
///
/// Streaming in bounded memory: a file (`put(key:contentType:file:…)`) goes up as streaming
/// request bodies read from disk in small chunks; a chunk source is buffered one part at a time
/// (`partSize`, 8 MiB by default);
/// an object that fits in one part is one `PUT`, a larger one a multipart upload (aborted if any
/// step fails). `get` fetches 4 MiB ranges one after the other into the sink. Strict: every
/// failure, including the server being unreachable, throws `PersistenceError.storage`.
package final class S3MediaStorage: MediaStorage {
    package let configuration: S3Configuration
    private let http: SharedHTTPClient
    private let signer: S3Signer
    private let now: @Sendable () -> Int64
    private let scheme: String
    private let host: String
    private let port: Int
    private let hostHeader: String
    private let pathPrefix: String
    private let timeoutMilliseconds: Int

    /// - Parameter now: seconds since 1970, for the signatures (tests may pin it).
    package init(
        configuration: S3Configuration, http: SharedHTTPClient, timeoutMilliseconds: Int = 60_000,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) throws {
        self.configuration = configuration
        self.http = http
        self.now = now
        self.timeoutMilliseconds = timeoutMilliseconds
        self.signer = S3Signer(
            accessKeyID: configuration.accessKeyID, secretAccessKey: configuration.secretAccessKey,
            region: configuration.region)
        let base = configuration.endpoint ?? "https://s3.\(configuration.region).amazonaws.com"
        guard let parsed = HTTPClientRequest(method: "GET", url: base) else {
            throw PersistenceError.storage("S3_ENDPOINT \"\(base)\" is not an http(s) URL")
        }
        scheme = parsed.isSecure ? "https" : "http"
        let defaultPort = parsed.isSecure ? 443 : 80
        if configuration.pathStyle {
            host = parsed.host
            pathPrefix = "/" + S3Signer.encode(configuration.bucket)
        } else {
            host = "\(configuration.bucket).\(parsed.host)"
            pathPrefix = ""
        }
        port = parsed.port
        hostHeader = port == defaultPort ? host : "\(host):\(port)"
    }

    // MARK: - MediaStorage

    package func put(key: String, contentType: String?, from source: @escaping MediaChunkSource) async throws -> Int {
        try MediaKey.validate(key)
        let partSize = configuration.partSize
        var buffer: [UInt8] = []
        buffer.reserveCapacity(partSize)
        var finished = false
        // Fill the first part; an object that ends before it is full is one plain PUT.
        while buffer.count < partSize {
            guard let chunk = try await source() else {
                finished = true
                break
            }
            buffer += chunk
        }
        if finished {
            var headers: [(String, String)] = []
            if let contentType { headers.append(("content-type", contentType)) }
            _ = try await send("PUT", key: key, headers: headers, body: buffer, expect: [200])
            return buffer.count
        }
        return try await multipartUpload(key: key, contentType: contentType, first: buffer, source: source)
    }

    /// Sends the file itself: one streaming `PUT` when it fits in a part, else a multipart upload
    /// whose parts are streamed from their ranges of the file (aborted if any step fails). The
    /// bodies are signed `UNSIGNED-PAYLOAD`: hashing them first would read the file twice.
    package func put(
        key: String, contentType: String?, file path: String, length: Int, chunks: @escaping MediaChunkSource
    ) async throws {
        try MediaKey.validate(key)
        var headers: [(String, String)] = []
        if let contentType { headers.append(("content-type", contentType)) }
        let partSize = configuration.partSize
        guard length > partSize else {
            _ = try await send("PUT", key: key, headers: headers, file: HTTPBodyFile(path: path, length: length), expect: [200])
            return
        }
        let uploadID = try await createMultipartUpload(key: key, headers: headers)
        do {
            var etags: [String] = []
            for offset in stride(from: 0, to: length, by: partSize) {
                let number = etags.count + 1
                let part = HTTPBodyFile(path: path, offset: offset, length: min(partSize, length - offset))
                let response = try await send(
                    "PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], file: part, expect: [200])
                guard let etag = response.headers["etag"] else {
                    throw PersistenceError.storage("S3 UploadPart \(number) of \"\(key)\" returned no ETag")
                }
                etags.append(etag)
            }
            try await completeMultipartUpload(key: key, uploadID: uploadID, etags: etags)
        } catch {
            _ = try? await send("DELETE", key: key, query: [("uploadId", uploadID)], body: [], expect: [204, 200])
            throw error
        }
    }

    private func multipartUpload(
        key: String, contentType: String?, first: [UInt8], source: @escaping MediaChunkSource
    ) async throws -> Int {
        let partSize = configuration.partSize
        var headers: [(String, String)] = []
        if let contentType { headers.append(("content-type", contentType)) }
        let uploadID = try await createMultipartUpload(key: key, headers: headers)
        var etags: [String] = []
        var total = 0
        do {
            var buffer = first
            var ended = false
            while true {
                // Keep at most one part (plus one chunk) in memory.
                while !ended && buffer.count < partSize {
                    if let chunk = try await source() { buffer += chunk } else { ended = true }
                }
                if buffer.isEmpty { break }
                let part: [UInt8]
                if buffer.count <= partSize {
                    part = buffer
                    buffer = []
                    buffer.reserveCapacity(partSize)
                } else {
                    part = Array(buffer.prefix(partSize))
                    buffer.removeFirst(partSize)
                }
                let number = etags.count + 1
                let response = try await send(
                    "PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], body: part,
                    expect: [200])
                guard let etag = response.headers["etag"] else {
                    throw PersistenceError.storage("S3 UploadPart \(number) of \"\(key)\" returned no ETag")
                }
                etags.append(etag)
                total += part.count
                if ended && buffer.isEmpty { break }
            }
            try await completeMultipartUpload(key: key, uploadID: uploadID, etags: etags)
        } catch {
            _ = try? await send("DELETE", key: key, query: [("uploadId", uploadID)], body: [], expect: [204, 200])
            throw error
        }
        return total
    }

    private func createMultipartUpload(key: String, headers: [(String, String)]) async throws -> String {
        let created = try await send("POST", key: key, query: [("uploads", "")], headers: headers, body: [], expect: [200])
        guard let uploadID = Self.xmlValue("UploadId", in: created.body) else {
            throw PersistenceError.storage("S3 CreateMultipartUpload for \"\(key)\" returned no UploadId")
        }
        return uploadID
    }

    private func completeMultipartUpload(key: String, uploadID: String, etags: [String]) async throws {
        var xml = "<CompleteMultipartUpload>"
        for (index, etag) in etags.enumerated() {
            xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(etag)</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let completed = try await send(
            "POST", key: key, query: [("uploadId", uploadID)], headers: [("content-type", "application/xml")],
            body: Array(xml.utf8), expect: [200])
        // S3 may answer 200 with an error document once the upload has started.
        if let code = Self.xmlValue("Code", in: completed.body) {
            throw PersistenceError.storage("S3 CompleteMultipartUpload of \"\(key)\" failed: \(code)", status: 200)
        }
    }

    /// Bytes asked for per ranged `GET`: what a download holds in memory at once.
    package static let rangeBytes = 4 << 20

    package func get(key: String, into sink: @escaping MediaChunkSink) async throws -> Int {
        try MediaKey.validate(key)
        var offset = 0
        while true {
            let range = "bytes=\(offset)-\(offset + Self.rangeBytes - 1)"
            let response = try await send("GET", key: key, headers: [("range", range)], body: [], expect: [200, 206])
            try await sink(response.body)
            offset += response.body.count
            // 200: the whole object came (small, or the server ignores ranges).
            guard response.status == 206, let total = Self.totalLength(response.headers["content-range"]) else {
                return offset
            }
            if offset >= total || response.body.isEmpty { return offset }
        }
    }

    package func delete(key: String) async throws {
        try MediaKey.validate(key)
        _ = try await send("DELETE", key: key, body: [], expect: [204, 200])
    }

    package func exists(key: String) async throws -> Bool {
        try MediaKey.validate(key)
        let response = try await send("HEAD", key: key, body: [], expect: [200, 404])
        return response.status == 200
    }

    package func presignedGetURL(key: String, expiresSeconds: Int) async throws -> String? {
        try MediaKey.validate(key)
        let expires = min(604_800, max(1, expiresSeconds))  // S3 allows at most 7 days
        let path = objectPath(key)
        let query = signer.presignedQuery(
            path: path, host: hostHeader, amzDate: S3Signer.amzDate(epochSeconds: now()), expiresSeconds: expires)
        return "\(scheme)://\(hostHeader)\(path)?\(query)"
    }

    /// Creates the bucket (for tests and first setup; 409 "already owned by you" counts as done).
    package func createBucket() async throws {
        var body: [UInt8] = []
        if configuration.region != "us-east-1" {
            body = Array(
                "<CreateBucketConfiguration><LocationConstraint>\(configuration.region)</LocationConstraint></CreateBucketConfiguration>".utf8)
        }
        _ = try await send("PUT", key: "", body: body, expect: [200, 409], bucketLevel: true)
    }

    // MARK: - Requests

    private func objectPath(_ key: String) -> String { pathPrefix + "/" + S3Signer.encode(key, keepSlash: true) }

    /// Signs and sends one request; a status outside `expect` or a transport failure throws.
    private func send(
        _ method: String, key: String, query: [(String, String)] = [], headers extra: [(String, String)] = [],
        body: [UInt8] = [], file: HTTPBodyFile? = nil, expect: Set<Int>, bucketLevel: Bool = false
    ) async throws -> HTTPClientResponse {
        let path = bucketLevel ? (pathPrefix.isEmpty ? "/" : pathPrefix) : objectPath(key)
        let amzDate = S3Signer.amzDate(epochSeconds: now())
        let payloadHash =
            file != nil ? S3Signer.unsignedPayload : body.isEmpty ? S3Signer.emptyPayloadHash : Crypto.hex(Crypto.sha256(body))
        var signed: [(String, String)] = [
            ("host", hostHeader), ("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate),
        ]
        signed += extra
        let authorization = signer.authorization(
            method: method, path: path, query: query, headers: signed, payloadHash: payloadHash, amzDate: amzDate)
        var headers = HTTPHeaders()
        for (name, value) in signed { headers.add(name, value) }
        headers.add("authorization", authorization)
        let canonicalQuery = S3Signer.canonicalQuery(query)
        let target = canonicalQuery.isEmpty ? path : path + "?" + canonicalQuery
        var request = HTTPClientRequest(
            method: method, host: host, port: port, target: target, headers: headers, body: body,
            isSecure: scheme == "https")
        request.bodyFile = file
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            throw PersistenceError.storage("S3 \(method) \"\(key)\" at \(scheme)://\(hostHeader) failed: \(error)")
        }
        guard expect.contains(response.status) else {
            if response.status == 404 {
                throw PersistenceError.storage("S3 object \"\(key)\" not found in bucket \(configuration.bucket)", status: 404)
            }
            let code = Self.xmlValue("Code", in: response.body) ?? "HTTP \(response.status)"
            let message = Self.xmlValue("Message", in: response.body).map { ": \($0)" } ?? ""
            throw PersistenceError.storage(
                "S3 \(method) \"\(key)\" refused: \(code)\(message)", status: response.status)
        }
        return response
    }

    /// The text of the first `<name>…</name>` element of an XML body.
    static func xmlValue(_ name: String, in body: [UInt8]) -> String? {
        let text = String(decoding: body, as: UTF8.self)
        guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }

    /// The total of `Content-Range: bytes 0-9/1234`.
    static func totalLength(_ header: String?) -> Int? {
        guard let header, let slash = header.lastIndex(of: "/") else { return nil }
        return Int(header[header.index(after: slash)...])
    }
}
