internal import CZlib

/// Why a zlib call failed.
///
/// A struct over a private code, like `ReactorError`, so callers can tell a decompression bomb
/// (`isOutputLimit`) from a corrupt stream without matching on zlib's status numbers.
package struct ZlibError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case outputLimit
        case truncated
        case trailingData
        case corrupt
        case library
    }

    private let code: Code
    /// zlib's own message or the call that failed, for the log line.
    package let detail: String

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// Inflating would produce more than the caller's limit: a decompression bomb, or a peer
    /// sending more than it may.
    package static func outputLimitExceeded(_ limit: Int) -> ZlibError {
        ZlibError(.outputLimit, "inflated output exceeds \(limit) bytes")
    }

    /// The input ended before the zlib stream did.
    package static let truncated = ZlibError(.truncated, "zlib stream is truncated")

    /// Bytes follow the end of the zlib stream.
    package static let trailingData = ZlibError(.trailingData, "bytes after the end of the zlib stream")

    /// The stream is not valid zlib (bad header, bad block, checksum mismatch).
    package static func corrupt(_ message: String) -> ZlibError { ZlibError(.corrupt, message) }

    /// zlib itself failed (out of memory, bad parameters).
    package static func library(_ call: String, status: Int32) -> ZlibError {
        ZlibError(.library, "\(call) returned \(status)")
    }

    /// True when the output limit, not the data, stopped inflation.
    package var isOutputLimit: Bool { code == .outputLimit }

    package var description: String { "zlib: \(detail)" }
}

/// One-shot zlib (RFC 1950, `78 xx` header) compression over the system library.
///
/// Both directions hold the whole input and output in memory: the callers (WhatsApp frame
/// payloads, at most 16 MiB) never stream.
package enum Zlib {
    /// Output is produced in steps of this size, so the limit check happens before any
    /// allocation beyond `maxOutput + chunkSize`.
    private static let chunkSize = 32 * 1024

    /// Inflates a complete zlib stream.
    ///
    /// Throws `ZlibError.outputLimitExceeded` as soon as the output would pass `maxOutput`, so a
    /// few kilobytes of hostile input can never make us allocate gigabytes.
    package static func inflate(_ data: [UInt8], maxOutput: Int) throws -> [UInt8] {
        guard data.count <= Int(UInt32.max) else { throw ZlibError.library("inflate (input too large)", status: 0) }
        let stream = ZStreamBox()
        defer { stream.release() }
        let initStatus = CZlib_inflateInit(stream.pointer)
        guard initStatus == Z_OK else { throw ZlibError.library("inflateInit", status: initStatus) }
        defer { inflateEnd(stream.pointer) }

        var output: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: chunkSize)
        return try data.withUnsafeBufferPointer { input -> [UInt8] in
            // zlib never writes through next_in; the mutable pointer is only its C signature.
            stream.pointer.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.pointer.pointee.avail_in = UInt32(input.count)
            while true {
                let (status, produced) = scratch.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.pointer.pointee.next_out = out.baseAddress
                    stream.pointer.pointee.avail_out = UInt32(out.count)
                    let status = CZlib.inflate(stream.pointer, Z_NO_FLUSH)
                    return (status, out.count - Int(stream.pointer.pointee.avail_out))
                }
                if produced > 0 {
                    guard output.count + produced <= maxOutput else { throw ZlibError.outputLimitExceeded(maxOutput) }
                    output.append(contentsOf: scratch[0..<produced])
                }
                switch status {
                case Z_STREAM_END:
                    guard stream.pointer.pointee.avail_in == 0 else { throw ZlibError.trailingData }
                    return output
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    // No progress possible: with output space free this means the input ran out.
                    throw ZlibError.truncated
                case Z_DATA_ERROR, Z_NEED_DICT:
                    throw ZlibError.corrupt(message(of: stream.pointer.pointee) ?? "invalid data")
                default:
                    throw ZlibError.library("inflate", status: status)
                }
            }
        }
    }

    /// Compresses `data` into one zlib stream.
    ///
    /// `level` is zlib's 0...9; the default 9 matches what WhatsApp peers were seen to send
    /// (`78 da` header), and stanzas are small enough that the slower level costs nothing.
    package static func deflate(_ data: [UInt8], level: Int32 = 9) throws -> [UInt8] {
        guard data.count <= Int(UInt32.max) else { throw ZlibError.library("deflate (input too large)", status: 0) }
        let stream = ZStreamBox()
        defer { stream.release() }
        let initStatus = CZlib_deflateInit(stream.pointer, level)
        guard initStatus == Z_OK else { throw ZlibError.library("deflateInit", status: initStatus) }
        defer { deflateEnd(stream.pointer) }

        // deflateBound is exact enough for a single Z_FINISH call, so one call always completes.
        let bound = Int(deflateBound(stream.pointer, uLong(data.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let status = data.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.pointer.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.pointer.pointee.avail_in = UInt32(input.count)
                stream.pointer.pointee.next_out = out.baseAddress
                stream.pointer.pointee.avail_out = UInt32(out.count)
                return CZlib.deflate(stream.pointer, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw ZlibError.library("deflate", status: status) }
        output.removeLast(Int(stream.pointer.pointee.avail_out))
        return output
    }

    private static func message(of stream: z_stream) -> String? {
        stream.msg.map { String(cString: $0) }
    }
}

/// A z_stream at a fixed heap address. zlib keeps a pointer back to the stream in its state and
/// checks on every call that it is handed the same address; `&localVariable` only promises an
/// address valid for one call.
private struct ZStreamBox {
    let pointer: UnsafeMutablePointer<z_stream>

    init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: z_stream())
    }

    func release() {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}
