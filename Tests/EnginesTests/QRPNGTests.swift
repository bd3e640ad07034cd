import Foundation
import Testing
import TestSupport

@testable import Engines

/// The PNG is parsed back here with code written for the test (a bitwise CRC, a plain Adler-32, a stored
/// block inflater) and, separately, by Python's `zlib`; both must see exactly the module matrix.
struct QRPNGTests {
    /// What the test's own PNG reader found.
    struct DecodedPNG {
        var width = 0
        var height = 0
        var bitDepth = 0
        var colourType = 0
        var storedBlocks = 0
        /// Row-major, `true` for a black pixel.
        var pixels: [Bool] = []
    }

    /// Bit-at-a-time CRC-32 (no table), so it shares nothing with the writer's implementation.
    static func slowCRC32(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 0 ? 0 : 0xEDB8_8320) }
        }
        return ~crc
    }

    static func bigEndian(_ bytes: ArraySlice<UInt8>) -> Int {
        bytes.reduce(0) { $0 << 8 | Int($1) }
    }

    /// Parses signature and chunks, checks every CRC, inflates the stored deflate blocks and unpacks the
    /// 1-bit greyscale rows.
    static func decode(_ png: [UInt8]) throws -> DecodedPNG {
        try #require(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var result = DecodedPNG()
        var idat: [UInt8] = []
        var types: [String] = []
        var offset = 8
        while offset < png.count {
            let length = bigEndian(png[offset..<offset + 4])
            let typeAndData = png[offset + 4..<offset + 8 + length]
            let crc = UInt32(bigEndian(png[offset + 8 + length..<offset + 12 + length]))
            let type = String(decoding: typeAndData.prefix(4), as: UTF8.self)
            #expect(crc == slowCRC32(typeAndData), "CRC of \(type)")
            let data = Array(typeAndData.dropFirst(4))
            switch type {
            case "IHDR":
                result.width = bigEndian(data[0..<4])
                result.height = bigEndian(data[4..<8])
                result.bitDepth = Int(data[8])
                result.colourType = Int(data[9])
                #expect(Array(data[10..<13]) == [0, 0, 0], "compression, filter, interlace")
            case "IDAT": idat += data
            default: break
            }
            types.append(type)
            offset += 12 + length
        }
        #expect(types == ["IHDR", "IDAT", "IEND"])

        // zlib: CMF/FLG check, then stored blocks only, then the Adler-32 of the inflated data.
        #expect((Int(idat[0]) << 8 | Int(idat[1])) % 31 == 0 && idat[0] & 0x0F == 8)
        var raw: [UInt8] = []
        var position = 2
        var final = false
        while !final {
            final = idat[position] & 1 == 1
            #expect(idat[position] >> 1 & 3 == 0, "BTYPE must be stored")
            let length = Int(idat[position + 1]) | Int(idat[position + 2]) << 8
            let complement = Int(idat[position + 3]) | Int(idat[position + 4]) << 8
            #expect(length ^ complement == 0xFFFF)
            raw += idat[position + 5..<position + 5 + length]
            position += 5 + length
            result.storedBlocks += 1
        }
        var a = 1
        var b = 0
        for byte in raw {
            a = (a + Int(byte)) % 65_521
            b = (b + a) % 65_521
        }
        #expect(bigEndian(idat[position..<position + 4]) == b << 16 | a, "Adler-32")
        #expect(position + 4 == idat.count)

        let rowBytes = (result.width + 7) / 8
        try #require(raw.count == result.height * (rowBytes + 1))
        for y in 0..<result.height {
            let row = y * (rowBytes + 1)
            #expect(raw[row] == 0, "filter type of row \(y)")
            for x in 0..<result.width {
                result.pixels.append(raw[row + 1 + x / 8] >> (7 - x % 8) & 1 == 0)
            }
        }
        return result
    }

    @Test(arguments: [(1, 0), (3, 4), (8, 4), (5, 2)])
    func pixelsMatchModules(scale: Int, margin: Int) throws {
        let code = try QRCode.encode(QRTestSupport.pairingLikeString(seed: 7))
        let png = try Self.decode(PNGWriter.png(for: code, scale: scale, margin: margin))
        let side = (code.size + 2 * margin) * scale
        #expect(png.width == side && png.height == side)
        #expect(png.bitDepth == 1 && png.colourType == 0)
        var mismatches = 0
        for y in 0..<side {
            for x in 0..<side {
                let module = code.isDark(x: x / scale - margin, y: y / scale - margin)
                if png.pixels[y * side + x] != module { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    /// A version 40 symbol at scale 8 is over 270 kB of scanlines, so the stream needs several stored blocks.
    @Test func largeImageSpansSeveralStoredBlocks() throws {
        let code = try QRCode.encode(QRTestSupport.filler(count: 2900, mode: .byte, seed: 3), errorCorrection: .low)
        #expect(code.version == 40)
        let png = try Self.decode(PNGWriter.png(for: code))
        #expect(png.storedBlocks > 1)
        #expect(png.width == (177 + 8) * 8)
        #expect(png.pixels.filter { $0 }.count == QRTestSupport.rows(code).joined().filter { $0 == "1" }.count * 64)
    }

    @Test func checksumKnownAnswers() {
        #expect(PNGWriter.CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(PNGWriter.CRC32.checksum(Array("IEND".utf8)) == 0xAE42_6082)
        #expect(PNGWriter.Adler32.checksum(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(PNGWriter.Adler32.checksum([]) == 1)
        // Long enough to need the periodic reduction.
        let long = [UInt8](repeating: 0xFF, count: 100_000)
        #expect(PNGWriter.CRC32.checksum(long) == Self.slowCRC32(long))
        var a = 1
        var b = 0
        for byte in long {
            a = (a + Int(byte)) % 65_521
            b = (b + a) % 65_521
        }
        #expect(PNGWriter.Adler32.checksum(long) == UInt32(b << 16 | a))
    }

    /// RFC 4648 §10 test vectors, and the data URL decodes (with Foundation) to the same PNG bytes.
    @Test func dataURL() throws {
        let vectors = [
            "": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
            "foobar": "Zm9vYmFy",
        ]
        for (plain, encoded) in vectors {
            #expect(PNGWriter.base64(Array(plain.utf8)) == encoded)
        }
        let code = try QRCode.encode("2@abc,def")
        let url = PNGWriter.dataURL(for: code)
        let prefix = "data:image/png;base64,"
        #expect(url.hasPrefix(prefix))
        let decoded = try #require(Data(base64Encoded: String(url.dropFirst(prefix.count))))
        #expect([UInt8](decoded) == PNGWriter.png(for: code))
    }

    /// Python's zlib inflates the stream and checks chunk CRCs; sampling the centre of each module must
    /// give back the matrix.
    @Test func pythonZlibReadsThePNG() async throws {
        let python = try #require(QRTestSupport.which("python3"), "python3 not found: the PNG cross-check needs it")
        let code = try QRCode.encode(QRTestSupport.pairingLikeString(seed: 11), errorCorrection: .quartile)
        let scale = 6
        let margin = 4
        let script = """
            import struct, sys, zlib
            png = sys.stdin.buffer.read()
            assert png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
            pos, idat = 8, b""
            while pos < len(png):
                (length,) = struct.unpack(">I", png[pos:pos + 4])
                kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
                (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
                assert crc == zlib.crc32(kind + data), kind
                if kind == b"IHDR":
                    width, height, depth, colour = struct.unpack(">IIBB", data[:10])
                if kind == b"IDAT":
                    idat += data
                pos += 12 + length
            raw = zlib.decompress(idat)
            stride = (width + 7) // 8 + 1
            scale, margin = \(scale), \(margin)
            modules = width // scale - 2 * margin
            for my in range(modules):
                y = (my + margin) * scale + scale // 2
                row = ""
                for mx in range(modules):
                    x = (mx + margin) * scale + scale // 2
                    white = raw[y * stride + 1 + x // 8] >> (7 - x % 8) & 1
                    row += "0" if white else "1"
                print(row)
            """
        let png = Data(PNGWriter.png(for: code, scale: scale))
        let result = try await blocking { try QRTestSupport.run(python, ["-c", script], stdin: png) }
        #expect(result.status == 0, "\(result.stderr)")
        let rows = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(rows == QRTestSupport.rows(code))
    }
}
