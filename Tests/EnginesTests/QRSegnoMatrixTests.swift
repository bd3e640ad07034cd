import Foundation
import Testing
import TestSupport

@testable import Engines

/// Module-for-module comparison with segno, an independent pure-Python encoder: with version, level, mode
/// and mask all pinned, two correct encoders must produce the same matrix, so this checks data encoding,
/// Reed-Solomon, interleaving, placement, masking and function patterns together across all 40 versions.
struct QRSegnoMatrixTests {
    /// Reads a JSON list of cases on stdin and prints a JSON list of matrices (rows of "0"/"1"). Byte mode
    /// is forced to UTF-8 without ECI, as our encoder does; segno would otherwise try ISO 8859-1 first.
    ///
    /// One segno bug is patched out: when the bit stream already ends on a byte boundary it appends eight
    /// zero bits where clause 7.4.10 asks for none (heuer/segno#123 and #148, open as of segno 1.6.6), which
    /// shifts the pad codewords. That hits every byte-mode text short of capacity, i.e. every pairing
    /// string, so the helper swaps in the one-line fix the issue proposes; everything else is segno's own.
    static let script = """
        import json, sys
        try:
            import segno
            import segno.encoder
        except ImportError:
            print("segno is not installed", file=sys.stderr)
            sys.exit(3)
        def write_padding_bits(buff, version, length):
            buff.extend([0] * (-length % 8))
        segno.encoder.write_padding_bits = write_padding_bits
        out = []
        for case in json.load(sys.stdin):
            qr = segno.make_qr(case["text"], version=case["version"], error=case["level"], mode=case["mode"],
                               mask=case["mask"], encoding="utf-8" if case["mode"] == "byte" else None,
                               boost_error=False)
            out.append(["".join("1" if m else "0" for m in row) for row in qr.matrix])
        json.dump(out, sys.stdout)
        """

    struct Case {
        let text: String
        let level: QRCode.ErrorCorrection
        let version: Int
        let mask: Int

        var json: [String: Any] {
            let levelName = ["L", "M", "Q", "H"][level.tableIndex]
            let mode = QRSegment(text).mode.description
            return ["text": text, "version": version, "level": levelName, "mode": mode, "mask": mask]
        }
    }

    /// Every version at rotating levels, masks and modes, filled to capacity so every data module carries
    /// data; then pairing-like strings, shorter texts in pinned larger versions (pad codewords), and a few
    /// short texts, UTF-8 included.
    static let cases: [Case] = {
        var cases: [Case] = []
        let modes: [QRCode.Mode] = [.byte, .alphanumeric, .numeric]
        for version in 1...40 {
            // Two passes with different level, mode and mask for each version.
            for pass in 0..<2 {
                let level = QRCode.ErrorCorrection.allCases[(version + pass) % 4]
                let mode = modes[(version + pass) % 3]
                let capacity = QRSpec.characterCapacity(version: version, errorCorrection: level, mode: mode)
                let text = QRTestSupport.filler(count: capacity, mode: mode, seed: UInt64(version * 2 + pass))
                cases.append(Case(text: text, level: level, version: version, mask: (version + 3 * pass) % 8))
            }
        }
        // Pairing-like strings of 90 to 250 characters in the version the encoder picks for them.
        for seed in 0..<16 {
            let text = QRTestSupport.pairingLikeString(seed: UInt64(2000 + seed), refLength: 10 * seed)
            let level = QRCode.ErrorCorrection.allCases[seed % 4]
            guard let version = try? QRCode.encode(text, errorCorrection: level).version else { continue }
            cases.append(Case(text: text, level: level, version: version, mask: seed % 8))
        }
        for (index, version) in [3, 7, 11, 25].enumerated() {
            for mask in 0...7 {
                let text = QRTestSupport.pairingLikeString(seed: UInt64(1000 + mask), refLength: 10 + index)
                let level = QRCode.ErrorCorrection.allCases[(mask + index) % 4]
                guard (try? QRCode.encode(text, errorCorrection: level, version: version, mask: mask)) != nil
                else { continue }
                cases.append(Case(text: text, level: level, version: version, mask: mask))
            }
        }
        let short = ["01234567", "HELLO WORLD", "héllo wörld €", "2@Ünïcödé+/=,ключ", "a"]
        for (index, text) in short.enumerated() {
            cases.append(Case(text: text, level: .allCases[index % 4], version: 1 + index, mask: 7 - index))
        }
        return cases
    }()

    @Test func matricesEqualSegno() async throws {
        let python = try #require(
            QRTestSupport.which("python3"), "python3 not found: the segno cross-check needs Python 3 with segno")
        let input = try JSONSerialization.data(withJSONObject: Self.cases.map(\.json))
        let result = try await blocking { try QRTestSupport.run(python, ["-c", Self.script], stdin: input) }
        try #require(result.status != 3, "segno is missing: pip install segno")
        try #require(result.status == 0, "segno helper failed (\(result.status)): \(result.stderr)")
        let matrices = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String]])
        try #require(matrices.count == Self.cases.count)

        for (testCase, expected) in zip(Self.cases, matrices) {
            let code = try QRCode.encode(
                testCase.text, errorCorrection: testCase.level, version: testCase.version, mask: testCase.mask)
            #expect(
                QRTestSupport.rows(code) == expected,
                "\(testCase.version)-\(testCase.level) mask \(testCase.mask) \(code.mode): \(testCase.text.prefix(40))")
        }
    }
}
