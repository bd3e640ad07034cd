internal import CLinux
internal import Glibc

/// The outcome of a non-blocking I/O call: EAGAIN is a value, not an error.
package enum IOResult<Value> {
    case processed(Value)
    case wouldBlock
}

/// An accepted connection: its descriptor and the peer's address in text form.
package struct AcceptedSocket: Sendable {
    package let fd: CInt
    package let peerAddress: String
}

/// A resolved socket address, kept as bytes so it can cross threads without C types.
package struct ResolvedAddress: Sendable, Equatable, CustomStringConvertible {
    package let family: CInt
    /// The raw `sockaddr_in` / `sockaddr_in6`.
    package let bytes: [UInt8]

    /// The address alone, as `inet_ntop` writes it (`127.0.0.1`, `::1`).
    package var description: String {
        // sin_addr sits at offset 4 (4 bytes); sin6_addr at offset 8 (16 bytes).
        let (offset, length, size) = family == AF_INET6 ? (8, 16, Int(INET6_ADDRSTRLEN)) : (4, 4, Int(INET_ADDRSTRLEN))
        guard bytes.count >= offset + length else { return "?" }
        var text = [CChar](repeating: 0, count: size)
        let address = Array(bytes[offset..<offset + length])
        let written = address.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(size)) }
        guard written != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Thin wrappers over the socket syscalls the reactor uses.
///
/// EINTR is retried here; EAGAIN becomes `.wouldBlock`; every other errno is thrown with the
/// name of the call, so callers can log it and drop the one connection that failed.
package enum Socket {
    /// Creates a non-blocking, close-on-exec TCP listener bound to `host:port` (port 0 = any).
    /// Returns the descriptor and the port actually bound.
    package static func listen(host: String, port: Int, backlog: Int) throws(ReactorError) -> (fd: CInt, port: Int) {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = CInt(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw .addressResolution(host)
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .syscall("socket", errno: CLinux_errno()) }
        var one: CInt = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
        guard bind(fd, __CONST_SOCKADDR_ARG(__sockaddr__: info.pointee.ai_addr), info.pointee.ai_addrlen) == 0 else {
            let error = CLinux_errno()
            _ = CLinux.close(fd)
            throw .syscall("bind \(host):\(port)", errno: error)
        }
        guard CLinux.listen(fd, CInt(backlog)) == 0 else {
            let error = CLinux_errno()
            _ = CLinux.close(fd)
            throw .syscall("listen", errno: error)
        }
        return (fd, localPort(fd))
    }

    /// Accepts one pending connection as non-blocking and close-on-exec, with Nagle off.
    @inline(never)
    package static func accept(_ listener: CInt) throws(ReactorError) -> IOResult<AcceptedSocket> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept4(listener, __SOCKADDR_ARG(__sockaddr__: $0), &length, CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue))
                }
            }
            if fd >= 0 {
                var one: CInt = 1
                setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
                return .processed(AcceptedSocket(fd: fd, peerAddress: addressText(&storage)))
            }
            let error = CLinux_errno()
            switch error {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            // The peer gave up between SYN and accept: nothing to serve, try the next one.
            case ECONNABORTED, EPROTO: continue
            default: throw .syscall("accept4", errno: error)
            }
        }
    }

    /// Reads into `buffer`; `.processed(0)` is end of stream.
    @inline(never)
    package static func read(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer) throws(ReactorError) -> IOResult<Int> {
        while true {
            let count = CLinux.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return .processed(count) }
            let error = CLinux_errno()
            switch error {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw .syscall("read", errno: error)
            }
        }
    }

    /// Writes from `buffer` without raising SIGPIPE on a closed peer.
    @inline(never)
    package static func write(_ fd: CInt, from buffer: UnsafeRawBufferPointer) throws(ReactorError) -> IOResult<Int> {
        while true {
            let count = send(fd, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL))
            if count >= 0 { return .processed(count) }
            let error = CLinux_errno()
            switch error {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw .syscall("send", errno: error)
            }
        }
    }

    /// Resolves `host:port` to socket addresses. May block on DNS: call it on a worker, except for
    /// numeric hosts (`numericOnly`), which never touch the network.
    package static func resolve(host: String, port: Int, numericOnly: Bool = false) throws(ReactorError) -> [ResolvedAddress] {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICSERV | (numericOnly ? AI_NUMERICHOST : 0)
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = CInt(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0 else { throw .addressResolution(host) }
        defer { freeaddrinfo(result) }
        var addresses: [ResolvedAddress] = []
        var cursor = result
        while let info = cursor {
            let bytes = UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen))
            addresses.append(ResolvedAddress(family: info.pointee.ai_family, bytes: Array(bytes)))
            cursor = info.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw .addressResolution(host) }
        return addresses
    }

    /// Starts a non-blocking connect; `inProgress` means: wait for writability, then read
    /// `pendingError`.
    package static func connect(_ address: ResolvedAddress) throws(ReactorError) -> (fd: CInt, inProgress: Bool) {
        let fd = socket(address.family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .syscall("socket", errno: CLinux_errno()) }
        var one: CInt = 1
        setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
        let result = address.bytes.withUnsafeBytes { raw in
            CLinux.connect(
                fd, __CONST_SOCKADDR_ARG(__sockaddr__: raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)),
                socklen_t(raw.count))
        }
        if result == 0 { return (fd, false) }
        let error = CLinux_errno()
        if error == EINPROGRESS || error == EINTR { return (fd, true) }
        _ = CLinux.close(fd)
        throw .syscall("connect", errno: error)
    }

    /// The outcome of a non-blocking connect (0 = connected).
    package static func pendingError(_ fd: CInt) -> CInt {
        var error: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return CLinux_errno() }
        return error
    }

    /// The text form of an address, for logs and `peerAddress`.
    package static func text(of address: ResolvedAddress) -> String {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyBytes(from: address.bytes.prefix(MemoryLayout<sockaddr_storage>.size))
        }
        return addressText(&storage)
    }

    /// Stops sending; the peer sees end of stream while we may still read.
    package static func shutdownWrite(_ fd: CInt) {
        _ = shutdown(fd, CInt(SHUT_WR))
    }

    package static func close(_ fd: CInt) {
        // close(2) must not be retried on EINTR on Linux: the descriptor is already gone.
        _ = CLinux.close(fd)
    }

    private static func localPort(_ fd: CInt) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, __SOCKADDR_ARG(__sockaddr__: $0), &length) }
        }
        let family = storage.ss_family
        return withUnsafePointer(to: &storage) { pointer -> Int in
            if family == sa_family_t(AF_INET6) {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    /// The peer address as text; IPv4-mapped IPv6 addresses are reported as plain IPv4.
    private static func addressText(_ storage: inout sockaddr_storage) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = CInt(storage.ss_family)
        withUnsafePointer(to: &storage) { pointer in
            if family == AF_INET {
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var ip = address.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &ip, &text, socklen_t(text.count))
                }
            } else if family == AF_INET6 {
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var ip = address.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &ip, &text, socklen_t(text.count))
                }
            }
        }
        let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if address.hasPrefix("::ffff:"), address.contains(".") { return String(address.dropFirst(7)) }
        return address
    }
}
