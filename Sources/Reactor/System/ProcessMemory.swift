internal import CLinux
internal import Glibc

/// The process's memory use, for metrics and the sessions overview.
package enum ProcessMemory {
    /// Resident set size in bytes (from /proc/self/statm), 0 when unreadable.
    package static func residentBytes() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { _ = close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    package static func residentMegabytes() -> Int { residentBytes() >> 20 }
}
