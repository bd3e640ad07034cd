extension PNGWriter {
    /// CRC-32 as PNG uses it (ISO 3309 / ITU-T V.42): reflected polynomial 0xEDB88320, initial value and final
    /// XOR all ones. Every chunk carries one over its type and data.
    enum CRC32 {
        /// The CRC of each byte value, so the main loop handles eight bits per lookup.
        private static let table: [UInt32] = (0..<256).map { byte in
            var crc = UInt32(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1
            }
            return crc
        }

        static func checksum(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
            return crc ^ 0xFFFF_FFFF
        }
    }

    /// Adler-32 (RFC 1950 §8.2), the checksum that ends a zlib stream: two sums modulo 65 521, the largest
    /// prime below 2^16.
    enum Adler32 {
        private static let modulus: UInt32 = 65_521
        /// The most bytes that can be summed before `b` could overflow 32 bits (zlib's NMAX).
        private static let chunk = 5_552

        static func checksum(_ bytes: [UInt8]) -> UInt32 {
            var a: UInt32 = 1
            var b: UInt32 = 0
            var start = 0
            while start < bytes.count {
                let end = Swift.min(start + chunk, bytes.count)
                for byte in bytes[start..<end] {
                    a += UInt32(byte)
                    b += a
                }
                a %= modulus
                b %= modulus
                start = end
            }
            return b << 16 | a
        }
    }
}
