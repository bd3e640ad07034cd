import Reactor

/// AWS Signature Version 4 (the `AWS4-HMAC-SHA256` scheme), as S3 documents it: a canonical
/// request, the string to sign over its SHA-256, and a signing key derived from the secret, the
/// date, the region and the service. Header-signed requests carry the SHA-256 of their body in
/// `x-amz-content-sha256` when the body is in memory anyway (a whole small object or one part),
/// and `UNSIGNED-PAYLOAD` when it streams from a file; presigned URLs sign `UNSIGNED-PAYLOAD`, as
/// S3 requires.
package struct S3Signer: Sendable {
    package let accessKeyID: String
    package let secretAccessKey: String
    package let region: String
    package let service: String

    package init(accessKeyID: String, secretAccessKey: String, region: String, service: String = "s3") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    package static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    package static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// `yyyyMMdd'T'HHmmss'Z'` for a time in seconds since 1970 (UTC).
    package static func amzDate(epochSeconds: Int64) -> String {
        let days = Int(epochSeconds / 86_400)
        let seconds = Int(epochSeconds % 86_400)
        // Civil date from days since 1970 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)\(two(month))\(two(day))T\(two(seconds / 3_600))\(two(seconds % 3_600 / 60))\(two(seconds % 60))Z"
    }

    /// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay, everything else
    /// is `%XX` (upper case); `/` stays only when `keepSlash` (object key paths).
    package static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out += "/"
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    /// The canonical query string: names and values encoded, sorted by name then value.
    package static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (encode($0.0), encode($0.1)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// The canonical request; `path` is already URI-encoded; `headers` are the signed ones.
    package static func canonicalRequest(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String
    ) -> (request: String, signedHeaders: String) {
        let normalized = headers.map { ($0.0.lowercased(), trimmed($0.1)) }.sorted { $0.0 < $1.0 }
        let signedHeaders = normalized.map(\.0).joined(separator: ";")
        let canonicalHeaders = normalized.map { "\($0.0):\($0.1)\n" }.joined()
        let request = [method, path, canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")
        return (request, signedHeaders)
    }

    private static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    package func scope(date: String) -> String { "\(date.prefix(8))/\(region)/\(service)/aws4_request" }

    package func stringToSign(amzDate: String, canonicalRequest: String) -> String {
        "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope(date: amzDate))\n\(Crypto.hex(Crypto.sha256(Array(canonicalRequest.utf8))))"
    }

    package func signingKey(date: String) -> [UInt8] {
        let kDate = Crypto.hmacSHA256(key: Array("AWS4\(secretAccessKey)".utf8), Array(date.prefix(8).utf8))
        let kRegion = Crypto.hmacSHA256(key: kDate, Array(region.utf8))
        let kService = Crypto.hmacSHA256(key: kRegion, Array(service.utf8))
        return Crypto.hmacSHA256(key: kService, Array("aws4_request".utf8))
    }

    package func signature(amzDate: String, canonicalRequest: String) -> String {
        let toSign = stringToSign(amzDate: amzDate, canonicalRequest: canonicalRequest)
        return Crypto.hex(Crypto.hmacSHA256(key: signingKey(date: amzDate), Array(toSign.utf8)))
    }

    /// The `Authorization` header for a request whose signed headers include `host` and
    /// `x-amz-date` (and, for S3, `x-amz-content-sha256`).
    package func authorization(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String,
        amzDate: String
    ) -> String {
        let canonical = Self.canonicalRequest(
            method: method, path: path, query: query, headers: headers, payloadHash: payloadHash)
        let signature = signature(amzDate: amzDate, canonicalRequest: canonical.request)
        return "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope(date: amzDate)), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
    }

    /// The query of a presigned GET (only `host` signed, `UNSIGNED-PAYLOAD`), signature included.
    package func presignedQuery(
        method: String = "GET", path: String, host: String, amzDate: String, expiresSeconds: Int
    ) -> String {
        let query: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(accessKeyID)/\(scope(date: amzDate))"),
            ("X-Amz-Date", amzDate),
            ("X-Amz-Expires", String(expiresSeconds)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        let canonical = Self.canonicalRequest(
            method: method, path: path, query: query, headers: [("host", host)], payloadHash: Self.unsignedPayload)
        let signature = signature(amzDate: amzDate, canonicalRequest: canonical.request)
        return Self.canonicalQuery(query) + "&X-Amz-Signature=" + signature
    }
}
