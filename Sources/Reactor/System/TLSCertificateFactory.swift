internal import COpenSSL

/// Makes self-signed certificates (ECDSA P-256, SHA-256), for servers that must offer TLS on
/// loopback without a public CA: the WhatsApp simulator and tests. The certificate is its own
/// CA, so a client trusts it by loading the same PEM as its CA file.
package enum TLSCertificateFactory {
    /// A fresh key and certificate naming `commonName`, valid `days` from now, with the given
    /// DNS names and IP addresses as subject alternative names.
    package static func selfSigned(
        commonName: String, dnsNames: [String] = ["localhost"], ipAddresses: [String] = ["127.0.0.1", "::1"], days: Int = 825
    ) throws -> (certificatePEM: String, keyPEM: String) {
        let key = try generateKey()
        defer { EVP_PKEY_free(key) }
        guard let certificate = X509_new() else { throw ReactorError.tls("X509_new") }
        defer { X509_free(certificate) }
        let serial = try Crypto.randomBytes(8).reduce(0) { $0 << 8 | Int($1) } & Int.max
        guard X509_set_version(certificate, 2) == 1,
            ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial) == 1,
            X509_gmtime_adj(X509_getm_notBefore(certificate), -3_600) != nil,
            X509_gmtime_adj(X509_getm_notAfter(certificate), days * 86_400) != nil,
            X509_set_pubkey(certificate, key) == 1,
            let name = X509_get_subject_name(certificate),
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1,
            X509_set_issuer_name(certificate, name) == 1
        else { throw ReactorError.tls(TLSErrors.drain("building the certificate")) }
        let alternativeNames = (dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }).joined(separator: ",")
        try addExtension(certificate, NID_subject_alt_name, alternativeNames)
        try addExtension(certificate, NID_basic_constraints, "critical,CA:TRUE")
        try addExtension(certificate, NID_key_usage, "critical,digitalSignature,keyCertSign")
        guard X509_sign(certificate, key, EVP_sha256()) > 0 else { throw ReactorError.tls(TLSErrors.drain("X509_sign")) }
        let certificatePEM = try pem { PEM_write_bio_X509($0, certificate) }
        let keyPEM = try pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        return (certificatePEM, keyPEM)
    }

    private static func generateKey() throws -> OpaquePointer {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw ReactorError.tls("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
            EVP_PKEY_generate(context, &key) == 1, let key
        else { throw ReactorError.tls(TLSErrors.drain("generating a P-256 key")) }
        return key
    }

    private static func addExtension(_ certificate: OpaquePointer, _ nid: Int32, _ value: String) throws {
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, certificate, certificate, nil, nil, 0)
        guard let extensionObject = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
            throw ReactorError.tls(TLSErrors.drain("certificate extension \(value)"))
        }
        defer { X509_EXTENSION_free(extensionObject) }
        guard X509_add_ext(certificate, extensionObject, -1) == 1 else { throw ReactorError.tls(TLSErrors.drain("X509_add_ext")) }
    }

    private static func pem(_ write: (OpaquePointer) -> Int32) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw ReactorError.tls("BIO_new") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw ReactorError.tls(TLSErrors.drain("writing PEM")) }
        let count = Int(BIO_ctrl_pending(bio))
        var bytes = [UInt8](repeating: 0, count: count)
        _ = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(count)) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
