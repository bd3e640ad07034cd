import Foundation

/// A `multipart/form-data` body built by hand, so tests control every byte (and can break it).
package struct MultipartBody: Sendable {
    package var boundary: String
    package var bytes: [UInt8] = []

    package init(boundary: String = "----openwa-test-\(UUID().uuidString.prefix(8))") {
        self.boundary = boundary
    }

    package var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    package mutating func field(_ name: String, _ value: String) {
        append("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n")
        append(value)
        append("\r\n")
    }

    package mutating func file(_ name: String = "file", filename: String?, contentType: String?, _ data: [UInt8]) {
        append("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"")
        if let filename { append("; filename=\"\(filename)\"") }
        append("\r\n")
        if let contentType { append("Content-Type: \(contentType)\r\n") }
        append("\r\n")
        bytes += data
        append("\r\n")
    }

    /// The closing delimiter; the body is complete after it.
    package mutating func close() { append("--\(boundary)--\r\n") }

    package mutating func append(_ text: String) { bytes += Array(text.utf8) }
}
