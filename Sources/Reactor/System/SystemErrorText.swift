internal import CLinux

/// Human text for an errno value (strerror is not thread-safe; strerror_r's GNU form is).
package enum SystemErrorText {
    package static func describe(_ errno: CInt) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            guard let base = buffer.baseAddress else { return "errno \(errno)" }
            let text = strerror_r(errno, base, buffer.count)
            return text.map { String(cString: $0) } ?? "errno \(errno)"
        }
    }
}
