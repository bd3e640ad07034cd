import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Reactor

/// Streamed request and response bodies through real loopback sockets: a multipart form to a
/// responder that asks for it arrives with its large part in a spool file (plain and chunked,
/// with a pipelined request behind it), a malformed form is refused with the connection kept and
/// no file left, a form over the body limit is a 413 with no file left, and a file response
/// comes back byte for byte (HEAD: the length only) before the next pipelined answer.
@Suite(.timeLimit(.minutes(1))) struct HTTPServerStreamingTests {
    static func bytes(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &+ $0 >> 9) }
    }

    static func uploadDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("uploads-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func spoolFiles(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(HTTPUploadFile.namePrefix) }
    }

    static func waitUntilEmpty(_ directory: String, _ what: String) async throws {
        for _ in 0..<500 where !spoolFiles(directory).isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(spoolFiles(directory).isEmpty, "spool files left after \(what)")
    }

    static func start(_ directory: String, maxBodyBytes: Int = 25 << 20) throws -> (TestHTTPServer, FormResponder.Received) {
        var configuration = HTTPServer.Configuration()
        configuration.uploadDirectory = directory
        configuration.limits.maxBodyBytes = maxBodyBytes
        let received = FormResponder.Received()
        let server = try TestHTTPServer.start(configuration: configuration) { FormResponder(reactor: $0, received: received) }
        return (server, received)
    }

    static func form(_ file: [UInt8], boundary: String = "zz-boundary") -> MultipartBody {
        var form = MultipartBody(boundary: boundary)
        form.field("chatId", "123")
        form.file(filename: "big.bin", contentType: "application/pdf", file)
        form.field("caption", "after the file")
        form.close()
        return form
    }

    @Test func aLargeFormArrivesWithItsFileSpooledPlainAndChunked() async throws {
        let directory = try Self.uploadDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (server, received) = try Self.start(directory)
        let file = Self.bytes(3 << 20, seed: 7)
        let form = Self.form(file)
        // The same form with a Content-Length, then chunked in odd pieces, then a plain request:
        // all on one connection, pipelined.
        var chunked: [UInt8] = []
        var offset = 0
        var size = 1
        while offset < form.bytes.count {
            let piece = form.bytes[offset..<min(form.bytes.count, offset + size)]
            chunked += Array("\(String(piece.count, radix: 16))\r\n".utf8) + piece + Array("\r\n".utf8)
            offset += piece.count
            size = size * 7 % 300_007 + 1
        }
        chunked += Array("0\r\n\r\n".utf8)
        let head = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: \(form.contentType)\r\n"
        let requests =
            Array((head + "Content-Length: \(form.bytes.count)\r\n\r\n").utf8) + form.bytes
            + Array((head + "Transfer-Encoding: chunked\r\n\r\n").utf8) + chunked + Array("GET /after HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let responses = try await blocking {
            let client = try LoopbackClient(port: server.port)
            client.send(requests)
            return client.readResponses(3)
        }
        #expect(responses.map(\.status) == [200, 200, 200])
        let summary = "chatId 3 memory\nfile 3145728 file\ncaption 14 memory\n"
        #expect(responses.map(\.text) == [summary, summary, "GET /after"])
        var forms = received.take()
        #expect(forms.count == 2)
        for form in forms {
            guard case .parts(let parts) = form, parts.count == 3 else {
                Issue.record("not a form of three parts: \(form)")
                continue
            }
            #expect(parts[0].name == "chatId" && parts[2].name == "caption")
            #expect(parts[1].filename == "big.bin" && parts[1].contentType == "application/pdf")
            guard case .file(let spooled) = parts[1].content else {
                Issue.record("the file part stayed in memory")
                continue
            }
            let path = spooled.path
            #expect(try await blocking { FileManager.default.contents(atPath: path) } == Data(file))
            #expect(path.hasPrefix(directory))
        }
        // The files go with the last reference to the form.
        #expect(Self.spoolFiles(directory).count == 2)
        forms.removeAll()
        try await Self.waitUntilEmpty(directory, "the forms were released")
        _ = try await server.stop()
    }

    @Test func aMalformedFormIsRefusedAndTheConnectionStaysUsable() async throws {
        let directory = try Self.uploadDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (server, received) = try Self.start(directory)
        // The closing delimiter is missing: only the end of the body tells, after the file spooled.
        let truncated = Array(Self.form(Self.bytes(2 << 20, seed: 3)).bytes.dropLast(17))
        // And one cut inside its file part, while that part is still being written.
        var fileLast = MultipartBody(boundary: "zz-boundary")
        fileLast.file(filename: "cut.bin", contentType: nil, Self.bytes(2 << 20, seed: 4))
        let cut = Array(fileLast.bytes.dropLast(1_000))
        let noBoundary = Array("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data\r\nContent-Length: 5\r\n\r\nhello".utf8)
        let responses = try await blocking {
            let client = try LoopbackClient(port: server.port)
            client.send(
                Array("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz-boundary\r\n".utf8)
                    + Array("Content-Length: \(truncated.count)\r\n\r\n".utf8) + truncated
                    + Array("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz-boundary\r\n".utf8)
                    + Array("Content-Length: \(cut.count)\r\n\r\n".utf8) + cut + noBoundary
                    + Array("GET /after HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            return client.readResponses(4)
        }
        #expect(responses.map(\.status) == [400, 400, 400, 200])
        #expect(responses.first?.text == "Malformed multipart body: the closing boundary is missing")
        #expect(responses.dropFirst().first?.text == "Malformed multipart body: the closing boundary is missing")
        #expect(responses.dropFirst(2).first?.text.contains("needs a boundary") == true)
        #expect(responses.last?.header("connection") == nil, "the connection was given up")
        #expect(received.take().count == 3)
        try await Self.waitUntilEmpty(directory, "a malformed form")
        _ = try await server.stop()
    }

    @Test func aFormOverTheBodyLimitIsA413AndLeavesNoFile() async throws {
        let directory = try Self.uploadDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (server, received) = try Self.start(directory, maxBodyBytes: 1 << 20)
        let form = Self.form(Self.bytes(900_000, seed: 5))
        // One chunk of 900 KB spools the file part; the next chunk's size passes the limit.
        let first = Array(form.bytes.prefix(900_000))
        let response = try await blocking {
            let client = try LoopbackClient(port: server.port)
            client.send(
                Array("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: \(form.contentType)\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
                    + Array("\(String(first.count, radix: 16))\r\n".utf8) + first + Array("\r\n100000\r\n".utf8))
            return client.readResponse()
        }
        #expect(response?.status == 413)
        #expect(response?.header("connection") == "close")
        #expect(received.take().isEmpty, "the responder saw a request over the limit")
        try await Self.waitUntilEmpty(directory, "a 413")
        _ = try await server.stop()
    }

    @Test func aFileResponseStreamsBackByteForByte() async throws {
        let directory = try Self.uploadDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let content = Self.bytes(5 << 20 + 123, seed: 9)
        let path = directory + "/served.bin"
        try Data(content).write(to: URL(fileURLWithPath: path))
        let (server, _) = try Self.start(directory)
        let target = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path
        let responses = try await blocking {
            let client = try LoopbackClient(port: server.port)
            client.send("GET /file?path=\(target) HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n")
            let pipelined = client.readResponses(2)
            // A HEAD answer has a length but no body: its head is all that comes.
            client.send("HEAD /file?path=\(target) HTTP/1.1\r\nHost: x\r\n\r\n")
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while !head.suffix(4).elementsEqual([13, 10, 13, 10]), recv(client.fd, &byte, 1, 0) == 1 { head.append(byte) }
            client.send("GET /last HTTP/1.1\r\nHost: x\r\n\r\n")
            return (pipelined, String(decoding: head, as: UTF8.self), client.readResponses(1))
        }
        #expect(responses.0.first?.status == 200)
        #expect(responses.0.first?.body == content)
        #expect(responses.0.last?.text == "GET /after")
        #expect(responses.1.lowercased().contains("content-length: \(content.count)"), "\(responses.1)")
        #expect(responses.2.first?.text == "GET /last", "the HEAD answer carried a body")
        // A file opened with `removing` is gone from the directory yet still served whole.
        let response = try await blocking {
            try LoopbackClient(port: server.port).request("GET", "/file?remove=1&path=\(target)")
        }
        #expect(response?.body == content)
        #expect(!FileManager.default.fileExists(atPath: path))
        let missing = try await blocking { try LoopbackClient(port: server.port).request("GET", "/file?path=%2Fnone") }
        #expect(missing?.status == 404)
        _ = try await server.stop()
    }
}

/// Streams forms on `/upload` and answers with one line per part (name, length, where it is);
/// serves `/file?path=` from disk; answers anything else with its method and path.
final class FormResponder: HTTPResponder {
    final class Received: Sendable {
        private let forms = Mutex<[HTTPStreamedForm]>([])
        func add(_ form: HTTPStreamedForm) { forms.withLock { $0.append(form) } }
        func take() -> [HTTPStreamedForm] { forms.withLock { forms in defer { forms = [] }; return forms } }
    }

    private unowned let reactor: Reactor
    private let received: Received

    init(reactor: Reactor, received: Received) {
        self.reactor = reactor
        self.received = received
    }

    func bodyHandling(for head: HTTPRequestHead) -> HTTPBodyHandling {
        head.path == "/upload" ? .multipartForm : .collect
    }

    func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        switch request.head.path {
        case "/upload":
            guard let form = request.form else { return sink.send(HTTPResponse(status: 500, body: Array("collected".utf8))) }
            received.add(form)
            switch form {
            case .parts(let parts):
                let lines = parts.map { part -> String in
                    if case .file = part.content { return "\(part.name) \(part.length) file\n" }
                    return "\(part.name) \(part.length) memory\n"
                }
                sink.send(HTTPResponse(status: 200, body: Array(lines.joined().utf8)))
            case .malformed(let message): sink.send(HTTPResponse(status: 400, body: Array(message.utf8)))
            case .unstored(let reason): sink.send(HTTPResponse(status: 503, body: Array(reason.utf8)))
            }
        case "/file":
            let query = Dictionary(request.head.queryItems(), uniquingKeysWith: { $1 })
            let (path, removing) = (query["path"] ?? "", query["remove"] == "1")
            reactor.workers.anyLane().submit({ try HTTPResponseFile.open(path: path, removing: removing) }) { result in
                guard case .success(let file) = result else { return sink.send(HTTPResponse(status: 404)) }
                var response = HTTPResponse(status: 200)
                response.bodyFile = file
                sink.send(response)
            }
        default:
            sink.send(HTTPResponse(status: 200, body: Array("\(request.head.method) \(request.head.path)".utf8)))
        }
    }
}
