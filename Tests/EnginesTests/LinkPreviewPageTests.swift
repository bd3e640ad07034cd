import Engines
import Testing

/// Reading the link and the Open Graph tags a preview is built from.
@Suite struct LinkPreviewPageTests {
    @Test(arguments: [
        ("see https://example.com/a?b=1.", "https://example.com/a?b=1"),
        ("(HTTP://Example.com/x)", "HTTP://Example.com/x"),
        ("wiki https://en.wikipedia.org/wiki/Swift_(language) ok", "https://en.wikipedia.org/wiki/Swift_(language)"),
        ("first http://a.test/1, then https://b.test/2", "http://a.test/1"),
        ("ünïcödé → https://x.test/ü!", "https://x.test/ü"),
        ("<https://quoted.test/p>", "https://quoted.test/p"),
    ])
    func theFirstURLAsWritten(_ text: String, _ expected: String) {
        #expect(LinkPreviewPage.firstURL(in: text) == expected)
    }

    @Test func textWithoutALinkHasNone() {
        for text in ["no link", "ftp://files.test/x", "https://", "mail me at http:/broken", "httpx://nope.test"] {
            #expect(LinkPreviewPage.firstURL(in: text) == nil, "\(text)")
        }
    }

    @Test func openGraphTagsWinOverTheTitleAndScriptsAreNotMarkup() {
        let html = """
            <html><head><!-- <meta property="og:title" content="commented out"> -->
            <title>Page &lt;title&gt;</title>
            <style>meta { color: red }</style>
            <script>var s = '<meta property="og:image" content="/evil.jpg">';</script>
            <META PROPERTY="og:title" CONTENT="  The &quot;real&quot;   title ">
            <meta property="og:title" content="second og:title is ignored">
            <meta name="description" content="plain description">
            <meta property="og:image" content=https://cdn.test/a.jpg />
            </head></html>
            """
        let summary = LinkPreviewPage.summary(of: Array(html.utf8))
        #expect(summary.title == "The \"real\" title")
        #expect(summary.description == "plain description")
        #expect(summary.image == "https://cdn.test/a.jpg")
    }

    @Test func theTitleTagStandsInAndBrokenMarkupDoesNotTrap() {
        #expect(LinkPreviewPage.summary(of: Array("<title>Only &#x41;&#66;C</title>".utf8)).title == "Only ABC")
        #expect(LinkPreviewPage.summary(of: Array("<title>never closed".utf8)).title == "never closed")
        let broken = LinkPreviewPage.summary(of: Array("<<<>>><meta".utf8))
        #expect(broken.title == nil && broken.description == nil && broken.image == nil)
        #expect(LinkPreviewPage.decodeEntities("a &bogus; b & c &#xZZ; &amp; &#233;") == "a &bogus; b & c &#xZZ; & é")
    }

    @Test func theImageResolvesAgainstThePage() {
        #expect(LinkPreviewPage.imageURL("/i.jpg", page: "https://site.test/a/b.html") == "https://site.test/i.jpg")
        #expect(LinkPreviewPage.imageURL("c.jpg", page: "https://site.test/a/b.html") == "https://site.test/a/c.jpg")
        #expect(LinkPreviewPage.imageURL("//cdn.test/x.jpg", page: "http://site.test/") == "http://cdn.test/x.jpg")
        #expect(LinkPreviewPage.imageURL("file:///etc/passwd", page: "https://site.test/") == nil)
        #expect(LinkPreviewPage.imageURL("javascript:alert(1)", page: "https://site.test/") == nil)
    }
}
