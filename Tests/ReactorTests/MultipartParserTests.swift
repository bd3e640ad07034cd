import Testing
import TestSupport
@testable import Reactor

/// The incremental form parser: the same parts whatever way the body is cut into reads (every
/// split point, one byte at a time), delimiters that look almost right inside part data, RFC 2046
/// leeway, and every way a body can be out of shape.
@Suite struct MultipartParserTests {
    struct Part: Equatable {
        var head: MultipartParser.PartHead
        var bytes: [UInt8]
    }

    enum Outcome: Equatable {
        case parts([Part])
        case failure(String)
    }

    /// Feeds `pieces` one after the other, draining events after each, then ends the body.
    static func parse(_ pieces: [[UInt8]], boundary: String) -> Outcome {
        var parser = MultipartParser(boundary: boundary)
        var parts: [Part] = []
        var current: Part?
        var ended = false
        func drain() -> Outcome? {
            while let event = parser.next() {
                switch event {
                case .partStart(let head):
                    #expect(current == nil, "a part started inside another")
                    current = Part(head: head, bytes: [])
                case .partData(let bytes):
                    #expect(!bytes.isEmpty, "an empty data event")
                    current?.bytes += bytes
                case .partEnd:
                    parts.append(current!)
                    current = nil
                case .end:
                    ended = true
                case .failure(let reason):
                    return .failure(reason)
                }
            }
            return nil
        }
        for piece in pieces {
            parser.append(piece)
            if let failure = drain() { return failure }
        }
        parser.finish()
        if let failure = drain() { return failure }
        #expect(ended, "the form never ended")
        return .parts(parts)
    }

    static func parse(_ body: [UInt8], boundary: String) -> Outcome { parse([body], boundary: boundary) }

    /// A small form: two fields, a file whose data holds near-delimiters, CRs and LFs.
    static let boundary = "xB0und"
    static let file: [UInt8] = Array("\r\n--xB0un\r\n-\r\r\n--xB0unD\r\n\r\n\r".utf8) + [0, 0xFF, 0x0D]
    static var form: [UInt8] {
        var body = MultipartBody(boundary: boundary)
        body.field("chatId", "123")
        body.field("caption", "")
        body.file(filename: "a.bin", contentType: "application/pdf", file)
        body.close()
        return body.bytes
    }

    static let expected: Outcome = .parts([
        Part(head: .init(name: "chatId"), bytes: Array("123".utf8)),
        Part(head: .init(name: "caption"), bytes: []),
        Part(head: .init(name: "file", filename: "a.bin", contentType: "application/pdf"), bytes: file),
    ])

    @Test func aWholeBodyParses() {
        #expect(Self.parse(Self.form, boundary: Self.boundary) == Self.expected)
    }

    @Test func everySplitPointGivesTheSameParts() {
        let body = Self.form
        for split in 0...body.count {
            let outcome = Self.parse([Array(body[..<split]), Array(body[split...])], boundary: Self.boundary)
            #expect(outcome == Self.expected, "split at \(split)")
        }
        for first in stride(from: 0, through: body.count, by: 7) {
            for second in stride(from: first, through: body.count, by: 5) {
                let pieces = [Array(body[..<first]), Array(body[first..<second]), Array(body[second...])]
                #expect(Self.parse(pieces, boundary: Self.boundary) == Self.expected, "split at \(first) and \(second)")
            }
        }
    }

    @Test func oneByteAtATimeGivesTheSameParts() {
        #expect(Self.parse(Self.form.map { [$0] }, boundary: Self.boundary) == Self.expected)
    }

    @Test func rfc2046LeewayIsAccepted() {
        // A preamble, padding after delimiters, a part without a type, an epilogue, a quoted
        // filename with a Windows path and an escaped quote.
        let body = Array(
            ("preamble line\r\n--B  \t\r\nContent-Disposition: form-data; name=\"f\"; filename=\"C:\\\\x\\\\a\\\"b.png\"\r\n\r\nabc"
                + "\r\n--B\r\ncontent-disposition: form-data; name=t\r\nX-Other: 1\r\n\r\n\r\n--B--\r\nepilogue --B\r\n").utf8)
        let outcome = Self.parse(body, boundary: "B")
        #expect(
            outcome
                == .parts([
                    Part(head: .init(name: "f", filename: "a\"b.png"), bytes: Array("abc".utf8)),
                    Part(head: .init(name: "t"), bytes: []),
                ]))
        // A form that opens directly with its closing delimiter has no parts.
        #expect(Self.parse(Array("--B--".utf8), boundary: "B") == .parts([]))
    }

    @Test func malformedBodiesFail() {
        let good = Self.form
        let mine = Self.boundary
        let longHeader = "--B\r\nContent-Disposition: form-data; name=a\r\nX: " + String(repeating: "a", count: 9_000)
        let cases: [(String, [UInt8], String, String)] = [
            ("wrong boundary", good, "other", "no part starts with the boundary"),
            ("empty", [], "B", "no part starts with the boundary"),
            ("truncated in data", Array(good.dropLast(20)), mine, "the closing boundary is missing"),
            ("no closing delimiter", Array(good.dropLast(12)), mine, "the closing boundary is missing"),
            ("closing delimiter cut", Array(good.dropLast(3)), mine, "the closing boundary is missing"),
            ("after a delimiter", Array("--B".utf8), "B", "the closing boundary is missing"),
            ("junk after a delimiter", Array("--Bx\r\n".utf8), "B", "a boundary line does not end in CRLF"),
            ("bare LF after a delimiter", Array("--B\n\r\n".utf8), "B", "a boundary line does not end in CRLF"),
            ("single dash", Array("--B-\r\n".utf8), "B", "a boundary line does not end in CRLF"),
            // Padding belongs to a part's delimiter line; a `--` after it closes nothing (split
            // right after the padding too, where the `--` starts the next read).
            ("dashes after padding", Array("junk\r\n--B --B \":".utf8), "B", "a boundary line does not end in CRLF"),
            ("no name", Array("--B\r\nContent-Disposition: form-data\r\n\r\nv\r\n--B--".utf8), "B", "no Content-Disposition name"),
            ("no headers", Array("--B\r\n\r\nv\r\n--B--".utf8), "B", "no Content-Disposition name"),
            ("not form-data", Array("--B\r\nContent-Disposition: inline; name=a\r\n\r\nv\r\n--B--".utf8), "B", "not form-data"),
            ("no colon", Array("--B\r\nname a\r\n\r\nv\r\n--B--".utf8), "B", "has no colon"),
            ("headers cut", Array("--B\r\nContent-Disposition: form-data; name=a\r\n".utf8), "B", "headers do not end"),
            ("headers too long", Array(longHeader.utf8), "B", "headers do not end"),
        ]
        for (what, body, boundary, reason) in cases {
            // Whole, and a byte at a time: the long header must fail before the body ends, too.
            let middle = body.count / 2
            for pieces in [[body], body.map { [$0] }, [Array(body[..<middle]), Array(body[middle...])]] {
                guard case .failure(let message) = Self.parse(pieces, boundary: boundary) else {
                    Issue.record("\(what): parsed")
                    continue
                }
                #expect(message.contains(reason), "\(what): \(message)")
            }
        }
        // Too many parts.
        var many = MultipartBody(boundary: "B")
        for index in 0...MultipartParser.maxParts { many.field("f\(index)", "v") }
        many.close()
        #expect(Self.parse(many.bytes, boundary: "B") == .failure("more than \(MultipartParser.maxParts) parts"))
    }

    @Test func aFailedParserStaysFailedAndHoldsNothing() {
        var parser = MultipartParser(boundary: "B")
        parser.append(Array("--Bx".utf8))
        #expect(parser.next() == .failure("a boundary line does not end in CRLF"))
        parser.append(Array("\r\nContent-Disposition: form-data; name=a\r\n\r\n".utf8))
        #expect(parser.next() == .failure("a boundary line does not end in CRLF"))
    }

    @Test func partDataIsHandedOutAsItArrives() {
        // A large part never piles up inside the parser: all but a delimiter's length is given out.
        var parser = MultipartParser(boundary: "B")
        parser.append(Array("--B\r\nContent-Disposition: form-data; name=file\r\n\r\n".utf8))
        #expect(parser.next() == .partStart(.init(name: "file")))
        var received = 0
        for _ in 0..<64 {
            parser.append([UInt8](repeating: 0x41, count: 16_384))
            while case .partData(let bytes)? = parser.next() { received += bytes.count }
            #expect(64 * 16_384 >= received && received >= 0)
        }
        #expect(received >= 64 * 16_384 - 4, "the parser held back \(64 * 16_384 - received) bytes")
    }

    @Test func contentTypesAreClassified() {
        #expect(MultipartParser.formType(contentType: "application/json") == .other)
        #expect(MultipartParser.formType(contentType: "multipart/form-data; boundary=abc") == .form(boundary: "abc"))
        #expect(MultipartParser.formType(contentType: #"Multipart/Form-Data; charset=utf-8; boundary="a b""#) == .form(boundary: "a b"))
        #expect(MultipartParser.formType(contentType: " \tMULTIPART/FORM-DATA;boundary=x") == .form(boundary: "x"))
        #expect(MultipartParser.formType(contentType: "multipart/form-dataset; boundary=x") == .other)
        #expect(MultipartParser.formType(contentType: "multipart/form") == .other)
        guard case .invalid(let missing) = MultipartParser.formType(contentType: "multipart/form-data") else {
            Issue.record("no boundary accepted")
            return
        }
        #expect(missing.contains("boundary"))
        let long = String(repeating: "x", count: 71)
        guard case .invalid(let tooLong) = MultipartParser.formType(contentType: "multipart/form-data; boundary=\(long)") else {
            Issue.record("a 71-character boundary accepted")
            return
        }
        #expect(tooLong.contains("1 to 70"))
    }
}
