import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client for tests, on 127.0.0.1. Every read has a timeout so a broken server
/// fails the test instead of hanging it.
package final class LoopbackClient: @unchecked Sendable {
    // Used by one test at a time; the fd is only touched by the calling test.
    package let fd: Int32

    package init(port: Int, receiveTimeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, __CONST_SOCKADDR_ARG(__sockaddr__: $0), socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // Not closed here: a class whose initializer throws once every stored property is set
        // still runs `deinit`, which closes it. Closing here as well closed the descriptor twice,
        // and the second close could hit whatever a parallel test had just opened under that number.
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { if fd >= 0 { close(fd) } }

    package func send(_ text: String) { send(Array(text.utf8)) }

    package func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    package func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until the peer closes (or the timeout); returns everything read.
    package func readToEnd() -> [UInt8] {
        var all: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return all }
            all.append(contentsOf: buffer[0..<count])
        }
    }

    /// Reads exactly `count` complete HTTP responses (Content-Length framed).
    package func readResponses(_ count: Int) -> [TestResponse] {
        var responses: [TestResponse] = []
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while responses.count < count {
            if let (response, used) = TestResponse.parse(pending) {
                responses.append(response)
                pending.removeFirst(used)
                continue
            }
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got <= 0 { break }
            pending.append(contentsOf: buffer[0..<got])
        }
        return responses
    }

    package func readResponse() -> TestResponse? { readResponses(1).first }

    /// True when the server has closed the connection (reads return end of stream).
    package func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }
}

/// A parsed response for assertions.
package struct TestResponse: Sendable {
    package var status: Int
    package var headers: [(String, String)]
    package var body: [UInt8]

    package var text: String { String(decoding: body, as: UTF8.self) }

    package func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    package static func parse(_ bytes: [UInt8]) -> (TestResponse, Int)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4, let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else {
            return nil
        }
        let head = String(decoding: bytes[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        let total = end + 4 + length
        guard bytes.count >= total else { return nil }
        return (TestResponse(status: status, headers: headers, body: Array(bytes[(end + 4)..<total])), total)
    }
}

/// Runs blocking socket work on a thread of its own, so the test's task does not block the
/// cooperative pool. Not on Dispatch's global queue: the gateways under test run their worker
/// lanes (SQLite statements among them) on Dispatch's shared threads, and dozens of parallel
/// tests each blocked in a read there can take every one of those threads, so the very reply
/// they wait for never gets computed.
package func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

extension LoopbackClient {
    /// One request on a fresh connection that closes after it (`Connection: close`), on a thread
    /// of its own (`blocking`): what a harness's one-off call to an admin API looks like.
    package static func oneShot(port: Int, _ method: String, _ path: String, body: String? = nil) async throws -> TestResponse? {
        try await blocking {
            let client = try LoopbackClient(port: port)
            return client.request(method, path, headers: [("Connection", "close")], body: body)
        }
    }

    /// One request with a binary body (`Content-Length` added), and its response.
    package func request(_ method: String, _ path: String, headers: [(String, String)], bytes: [UInt8]) -> TestResponse? {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "Content-Length: \(bytes.count)\r\n\r\n"
        send(Array(text.utf8) + bytes)
        return readResponse()
    }

    /// Sends one HTTP/1.1 request (keep-alive unless `headers` say otherwise) and reads its response.
    package func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil
    ) -> TestResponse? {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) { text += "Content-Type: application/json\r\n" }
            text += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            text += "\r\n"
        }
        send(text)
        return readResponse()
    }
}

extension TestResponse {
    /// The body parsed as a JSON object or array (Foundation types), nil if it is not JSON.
    package var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
    package var object: [String: Any] { json as? [String: Any] ?? [:] }
    package var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
}

import Logging

/// A logger that drops everything, so test output shows only the test runner's lines.
package let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
