internal import CLinux

/// Human text for an errno value (strerror is not thread-safe; strerror_r is). Without
/// _GNU_SOURCE (see CLinux's shim) this is the XSI strerror_r, which fills the buffer and
/// returns 0.
package enum SystemErrorText {
    package static func describe(_ errno: CInt) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            guard let base = buffer.baseAddress else { return "errno \(errno)" }
            guard strerror_r(errno, base, buffer.count) == 0 else { return "errno \(errno)" }
            return String(cString: base)
        }
    }
}
