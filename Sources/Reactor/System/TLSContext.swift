internal import COpenSSL

/// Shared TLS settings (OpenSSL's SSL_CTX): the trust store and verification for clients, the
/// certificate and key for servers. Immutable once made, so sessions on any thread may share it.
package final class TLSContext: @unchecked Sendable {
    // SSL_CTX is reference counted and safe to share between threads once configured; it is
    // configured entirely in init and never mutated afterwards.
    let context: OpaquePointer
    package let isServer: Bool

    /// A client context. `caFile` (PEM) replaces the system trust store when given; with
    /// `verifyPeer` false nothing is checked (tests of the failure path only).
    package init(clientTrusting caFile: String? = nil, verifyPeer: Bool = true) throws {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw ReactorError.tls(TLSErrors.drain("SSL_CTX_new")) }
        self.context = context
        self.isServer = false
        try configureCommon()
        if verifyPeer {
            let loaded = caFile.map { SSL_CTX_load_verify_locations(context, $0, nil) } ?? SSL_CTX_set_default_verify_paths(context)
            guard loaded == 1 else { throw ReactorError.tls(TLSErrors.drain("loading trust store \(caFile ?? "(system)")")) }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
    }

    /// A server context presenting `certificatePEM` (leaf first, then any chain) and `keyPEM`.
    package init(serverCertificatePEM certificatePEM: String, keyPEM: String) throws {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw ReactorError.tls(TLSErrors.drain("SSL_CTX_new")) }
        self.context = context
        self.isServer = true
        try configureCommon()
        try PEMObjects.withCertificates(certificatePEM) { certificates in
            guard let leaf = certificates.first, SSL_CTX_use_certificate(context, leaf) == 1 else {
                throw ReactorError.tls(TLSErrors.drain("using the server certificate"))
            }
            // SSL_CTX_add1_chain_cert is a macro over this ctrl (the 1 = take a reference).
            for extra in certificates.dropFirst()
            where SSL_CTX_ctrl(context, SSL_CTRL_CHAIN_CERT, 1, UnsafeMutableRawPointer(extra)) != 1 {
                throw ReactorError.tls(TLSErrors.drain("adding a chain certificate"))
            }
        }
        try PEMObjects.withPrivateKey(keyPEM) { key in
            guard SSL_CTX_use_PrivateKey(context, key) == 1, SSL_CTX_check_private_key(context) == 1 else {
                throw ReactorError.tls(TLSErrors.drain("using the server key"))
            }
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    private func configureCommon() throws {
        // TLS 1.2 is the floor; partial writes let one large plaintext go out in pieces.
        SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        SSL_CTX_ctrl(context, SSL_CTRL_MODE, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), nil)
    }
}

/// Reading PEM text into OpenSSL objects that live only for the duration of a closure.
enum PEMObjects {
    static func withCertificates<T>(_ pem: String, _ body: ([OpaquePointer]) throws -> T) throws -> T {
        try withMemoryBIO(pem) { bio in try readCertificates(bio, body) }
    }

    private static func readCertificates<T>(_ bio: OpaquePointer, _ body: ([OpaquePointer]) throws -> T) throws -> T {
        var certificates: [OpaquePointer] = []
        defer { certificates.forEach { X509_free($0) } }
        while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) { certificates.append(certificate) }
        ERR_clear_error()  // the loop ends on a "no start line" error, which is expected
        guard !certificates.isEmpty else { throw ReactorError.tls("no certificate in PEM") }
        return try body(certificates)
    }

    static func withPrivateKey<T>(_ pem: String, _ body: (OpaquePointer) throws -> T) throws -> T {
        try withMemoryBIO(pem) { bio in
            guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else { throw ReactorError.tls(TLSErrors.drain("reading key PEM")) }
            defer { EVP_PKEY_free(key) }
            return try body(key)
        }
    }

    /// A read-only memory BIO over the text. BIO_new_mem_buf does not copy: it reads the caller's
    /// buffer for as long as the BIO lives, so the bytes must outlive it. A String passed straight
    /// to the C call would hand over a pointer that is only valid during that call.
    private static func withMemoryBIO<T>(_ text: String, _ body: (OpaquePointer) throws -> T) throws -> T {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { throw ReactorError.tls("BIO_new_mem_buf") }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }
}

/// OpenSSL's thread-local error queue as one line of text (and emptied, so errors do not leak
/// into the next operation on this thread).
enum TLSErrors {
    static func drain(_ operation: String) -> String {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? operation : "\(operation): \(messages.joined(separator: "; "))"
    }
}
