import Reactor
import Testing

@Suite struct HTTPHeadersTests {
    private var sample: HTTPHeaders {
        HTTPHeaders([("Host", "h"), ("Accept", "text/html"), ("X-Multi", "1"), ("accept", "*/*"), ("x-multi", "2")])
    }

    @Test func lookupIsCaseInsensitiveAndReturnsTheFirstValue() {
        let headers = sample
        #expect(headers["accept"] == "text/html")
        #expect(headers["ACCEPT"] == "text/html")
        #expect(headers["missing"] == nil)
        #expect(headers.values("X-MULTI") == ["1", "2"])
        #expect(headers.values("missing").isEmpty)
        #expect(headers.contains("host"))
        #expect(!headers.contains("hos"))
        #expect(headers.count == 5)
    }

    @Test func iterationKeepsOrderAndSpelling() {
        let names = sample.map(\.name)
        #expect(names == ["Host", "Accept", "X-Multi", "accept", "x-multi"])
    }

    @Test func addKeepsDuplicates() {
        var headers = HTTPHeaders()
        #expect(headers.isEmpty)
        headers.add("Set-Cookie", "a=1")
        headers.add("set-cookie", "b=2")
        #expect(headers.values("Set-Cookie") == ["a=1", "b=2"])
        #expect(headers.count == 2)
    }

    @Test func replaceOrAddKeepsThePositionAndDropsDuplicates() {
        var headers = sample
        headers.replaceOrAdd("ACCEPT", "application/json")
        #expect(headers.map(\.name) == ["Host", "Accept", "X-Multi", "x-multi"])
        #expect(headers.values("accept") == ["application/json"])
        headers.replaceOrAdd("X-New", "v")
        #expect(headers.map(\.name).last == "X-New")
        #expect(headers.count == 5)
    }

    @Test func removeDropsEveryMatchingField() {
        var headers = sample
        headers.remove("x-MULTI")
        #expect(!headers.contains("X-Multi"))
        #expect(headers.count == 3)
        headers.remove("absent")
        #expect(headers.count == 3)
    }

    @Test func equalityIsExact() {
        #expect(HTTPHeaders([("A", "1")]) == HTTPHeaders([("A", "1")]))
        #expect(HTTPHeaders([("A", "1")]) != HTTPHeaders([("a", "1")]))
        #expect(HTTPHeaders([("A", "1"), ("B", "2")]) != HTTPHeaders([("B", "2"), ("A", "1")]))
    }
}

struct QueryCase: Sendable, CustomTestStringConvertible {
    var query: String?
    var items: [(String, String)]
    var testDescription: String { query.map { "?\($0)" } ?? "no query" }
}

private let queryCases: [QueryCase] = [
    QueryCase(query: nil, items: []),
    QueryCase(query: "", items: []),
    QueryCase(query: "a=1&b=2", items: [("a", "1"), ("b", "2")]),
    QueryCase(query: "q=hello%20big+world", items: [("q", "hello big world")]),
    QueryCase(query: "flag", items: [("flag", "")]),
    QueryCase(query: "a=1&&b=", items: [("a", "1"), ("b", "")]),
    QueryCase(query: "a=b=c", items: [("a", "b=c")]),
    QueryCase(query: "%6Eame=%E2%9C%93", items: [("name", "\u{2713}")]),
    QueryCase(query: "x=%2B1%26y%3D2", items: [("x", "+1&y=2")]),
    QueryCase(query: "bad=%zz%4&pct=100%", items: [("bad", "%zz%4"), ("pct", "100%")]),
    QueryCase(query: "to=%2B491234&text=hi", items: [("to", "+491234"), ("text", "hi")]),
]

@Test(arguments: queryCases)
func queryItemsAreFormDecoded(_ testCase: QueryCase) {
    let head = HTTPRequestHead(
        method: "GET", target: "/", path: "/", query: testCase.query, versionMinor: 1, headers: HTTPHeaders(),
        keepAlive: true, expectsContinue: false, contentLength: nil, isChunked: false)
    let items = head.queryItems()
    #expect(items.map(\.0) == testCase.items.map(\.0))
    #expect(items.map(\.1) == testCase.items.map(\.1))
}
