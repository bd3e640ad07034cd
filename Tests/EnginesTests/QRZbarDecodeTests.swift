import Foundation
import Testing
import TestSupport

@testable import Engines

/// Round trips through an independent decoder: each case is encoded, written as our PNG, and read back by
/// `zbarimg` (ZBar), which must return exactly the original text.
struct QRZbarDecodeTests {
    /// One text to encode, with the level and an optional pinned mask or expected version.
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let text: String
        var level: QRCode.ErrorCorrection = .medium
        var mask: Int?
        var expectedVersion: Int?

        var testDescription: String { label }
    }

    static let cases: [Case] = {
        var cases: [Case] = [
            Case(label: "single letter", text: "a"),
            Case(label: "hello", text: "Hello, World!"),
            Case(label: "numeric annex I", text: "01234567"),
            Case(label: "alphanumeric", text: "HELLO WORLD $%*+-./:"),
            Case(label: "url", text: "https://wa.me/settings/linked_devices#2@abc,def"),
            Case(label: "latin-1 range UTF-8", text: "héllo wörld, ça va? ñ ß æ ø å"),
            Case(label: "euro and symbols", text: "€ 100, £ 5 — “quoted” ‘text’ …"),
            Case(label: "CJK", text: "日本語のテキストと中文字符"),
            Case(label: "emoji", text: "pairing 🙂👍🔐 ok"),
            Case(label: "mixed base64 UTF-8", text: "2@Ünïcödé+/=,ключ,κλειδί,مفتاح"),
        ]
        // WhatsApp-like pairing strings of about 150 to 250 characters, at every level.
        for (index, refLength) in [15, 40, 60, 80, 95, 110, 115].enumerated() {
            let text = QRTestSupport.pairingLikeString(seed: UInt64(index + 1), refLength: refLength)
            let level = QRCode.ErrorCorrection.allCases[index % 4]
            cases.append(Case(label: "pairing \(text.utf8.count) chars \(level)", text: text, level: level))
        }
        // One pairing string under every mask, so each mask pattern is checked by a decoder.
        let pairing = QRTestSupport.pairingLikeString(seed: 99)
        for mask in 0...7 {
            cases.append(Case(label: "pairing mask \(mask)", text: pairing, mask: mask))
        }
        // For every version, a text that exactly fills it and one character more, which must move up a
        // version; level and mode rotate so each combination appears at several sizes.
        let modes: [QRCode.Mode] = [.byte, .alphanumeric, .numeric]
        for version in 1...40 {
            let level = QRCode.ErrorCorrection.allCases[version % 4]
            let mode = modes[version % 3]
            let capacity = QRSpec.characterCapacity(version: version, errorCorrection: level, mode: mode)
            let full = QRTestSupport.filler(count: capacity, mode: mode, seed: UInt64(100 + version))
            cases.append(
                Case(
                    label: "full \(version)-\(level) \(mode) \(capacity)", text: full, level: level,
                    expectedVersion: version))
            if version < 40 {
                cases.append(
                    Case(
                        label: "over \(version)-\(level) \(mode)", text: full + String(full.prefix(1)), level: level,
                        expectedVersion: version + 1))
            }
        }
        return cases
    }()

    @Test(arguments: cases)
    func zbarReadsBackTheText(_ testCase: Case) async throws {
        let zbarimg = try #require(
            QRTestSupport.which("zbarimg"),
            "zbarimg not found: install the Debian package zbar-tools (apt-get install -y zbar-tools)")
        let code = try QRCode.encode(
            testCase.text, errorCorrection: testCase.level, version: nil, mask: testCase.mask)
        if let expectedVersion = testCase.expectedVersion {
            #expect(code.version == expectedVersion)
        }

        let directory = try QRTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("qr.png")
        try Data(PNGWriter.png(for: code)).write(to: file)

        // Only the QR decoder: with all symbologies on, ZBar now and then also "finds" a GS1 DataBar in the
        // module rows of a large symbol and prints it as a second line.
        let path = file.path
        let result = try await blocking { try QRTestSupport.run(zbarimg, ["--raw", "-q", "-Sdisable", "-Sqrcode.enable", path]) }
        #expect(result.status == 0, "zbarimg exited \(result.status): \(result.stderr)")
        // `--raw` prints the decoded text followed by one newline.
        let decoded = String(decoding: result.stdout, as: UTF8.self)
        #expect(decoded == testCase.text + "\n", "version \(code.version)-\(code.errorCorrection) mask \(code.mask)")
    }
}
