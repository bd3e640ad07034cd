internal import COpenSSL

/// One TLS connection's state, with no I/O of its own: ciphertext from the socket is fed in,
/// ciphertext to send is taken out, and plaintext goes through `read`/`write`. Memory BIOs sit
/// where a socket would, so the reactor keeps owning the descriptor.
///
/// Not thread-safe: used only on the reactor thread by its `TLSConnection`.
package final class TLSSession {
    package enum Progress: Equatable {
        case done
        case inProgress
    }

    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private let context: TLSContext
    private var freed = false

    /// - Parameter serverName: for clients, the name sent as SNI and checked against the
    ///   certificate (an IP address is checked as one).
    package init(context: TLSContext, serverName: String? = nil) throws {
        guard let ssl = SSL_new(context.context) else { throw ReactorError.tls(TLSErrors.drain("SSL_new")) }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw ReactorError.tls("BIO_new")
        }
        // An empty read BIO means "wait for more", not end of file.
        BIO_ctrl(readBIO, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nil)
        BIO_ctrl(writeBIO, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nil)
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL now owns both BIOs
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        self.context = context
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let serverName {
                let isAddress = IPAddressText.isLiteral(serverName)
                if !isAddress { _ = COpenSSL_SSL_set_tlsext_host_name(ssl, serverName) }
                let checked = isAddress
                    ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName)
                    : SSL_set1_host(ssl, serverName)
                guard checked == 1 else {
                    close()
                    throw ReactorError.tls(TLSErrors.drain("setting the expected server name"))
                }
            }
        }
    }

    deinit {
        close()
    }

    /// Frees the OpenSSL objects; the session is unusable afterwards.
    package func close() {
        guard !freed else { return }
        freed = true
        SSL_free(ssl)
    }

    /// Ciphertext received from the peer.
    package func feed(_ bytes: UnsafeRawBufferPointer) {
        guard !freed, bytes.count > 0 else { return }
        _ = BIO_write(readBIO, bytes.baseAddress, Int32(bytes.count))
    }

    /// Drives the handshake with what has been fed so far.
    package func handshake() throws -> Progress {
        guard !freed else { throw ReactorError.closed }
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .done }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .inProgress
        default:
            let verify = SSL_get_verify_result(ssl)
            let detail = verify == X509_V_OK ? "" : " (certificate: \(String(cString: X509_verify_cert_error_string(verify))))"
            throw ReactorError.tls(TLSErrors.drain("handshake") + detail)
        }
    }

    /// Decrypted application data available now (empty when more ciphertext is needed).
    /// Returns nil once the peer sent close_notify.
    package func read() throws -> [UInt8]? {
        guard !freed else { return nil }
        var plaintext: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                plaintext.append(contentsOf: chunk[0..<Int(count)])
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return plaintext
            case SSL_ERROR_ZERO_RETURN: return plaintext.isEmpty ? nil : plaintext
            default: throw ReactorError.tls(TLSErrors.drain("read"))
            }
        }
    }

    /// Encrypts application data; the ciphertext is then available from `takeOutput`.
    package func write(_ bytes: [UInt8]) throws {
        guard !freed else { throw ReactorError.closed }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                SSL_write(ssl, raw.baseAddress! + offset, Int32(bytes.count - offset))
            }
            guard written > 0 else { throw ReactorError.tls(TLSErrors.drain("write")) }
            offset += Int(written)
        }
    }

    /// Starts an orderly close (close_notify); send `takeOutput()` afterwards.
    package func shutdown() {
        guard !freed else { return }
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// Ciphertext waiting to be sent to the peer.
    package func takeOutput() -> [UInt8] {
        guard !freed else { return [] }
        let pending = Int(BIO_ctrl_pending(writeBIO))
        guard pending > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: pending)
        let read = out.withUnsafeMutableBytes { BIO_read(writeBIO, $0.baseAddress, Int32(pending)) }
        return read > 0 ? Array(out[0..<Int(read)]) : []
    }

    /// The negotiated protocol, e.g. "TLSv1.3".
    package var protocolVersion: String { freed ? "" : String(cString: SSL_get_version(ssl)) }
}

/// Whether a host string is an IPv4 or IPv6 literal (certificates name those as IP SANs).
enum IPAddressText {
    static func isLiteral(_ text: String) -> Bool {
        (try? Socket.resolve(host: text, port: 1, numericOnly: true)) != nil
    }
}
