import Testing
@testable import Reactor

@Suite struct CDPFrameSplitterTests {
    private let stream = Array(#"{"id":1,"result":{}}"#.utf8) + [0] + Array(#"{"method":"A.b","params":{"x":"y"}}"#.utf8) + [0]

    @Test func everySplitPointYieldsTheSameMessages() throws {
        for cut in 0...stream.count {
            var splitter = CDPFrameSplitter()
            var messages = try splitter.append(Array(stream[..<cut]))
            messages += try splitter.append(Array(stream[cut...]))
            #expect(messages.map { String(decoding: $0, as: UTF8.self) } == [#"{"id":1,"result":{}}"#, #"{"method":"A.b","params":{"x":"y"}}"#])
            #expect(splitter.pendingBytes == 0)
        }
    }

    @Test func byteByByteAndNULAtAChunkBoundary() throws {
        var splitter = CDPFrameSplitter()
        var messages: [[UInt8]] = []
        for byte in stream { messages += try splitter.append([byte]) }
        #expect(messages.count == 2)
    }

    @Test func largeMessageReassembledAcrossPipeSizedReads() throws {
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 5 << 20)
        let framed = CDPFrameSplitter.frame(payload) + CDPFrameSplitter.frame(Array("{}".utf8))
        var splitter = CDPFrameSplitter()
        var messages: [[UInt8]] = []
        var offset = 0
        while offset < framed.count {
            let end = min(framed.count, offset + 65_536)
            messages += try splitter.append(Array(framed[offset..<end]))
            offset = end
        }
        #expect(messages.count == 2)
        #expect(messages.first?.count == payload.count)
        #expect(messages.last == Array("{}".utf8))
    }

    @Test func aMessageOverTheLimitIsRefused() throws {
        var splitter = CDPFrameSplitter(maxMessageBytes: 1_000)
        _ = try splitter.append([UInt8](repeating: 32, count: 900))
        #expect(throws: CDPFrameSplitter.Failure.self) { try splitter.append([UInt8](repeating: 32, count: 200)) }
    }
}
