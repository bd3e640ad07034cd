import Reactor

/// The server's `CertChain` (ref part 1 §2.5): a leaf certificate for the server's Noise static key, signed by
/// an intermediate, which is signed by WhatsApp's root key. Sent encrypted as the ServerHello payload.
package struct NoiseCertificateChain: Sendable, Equatable {
    /// `NoiseCertificate`: serialized `Details` and the XEdDSA signature over exactly those bytes.
    package struct Certificate: Sendable, Equatable {
        /// Serialized inner message, exactly the bytes signed or MACed.
        package var details: [UInt8]?
        /// 64-byte XEdDSA signature over `details`.
        package var signature: [UInt8]?

        /// A value with the given fields.
        package init(details: [UInt8]?, signature: [UInt8]?) {
            self.details = details
            self.signature = signature
        }
    }

    /// `NoiseCertificate.Details`.
    package struct Details: Sendable, Equatable {
        /// This certificate's serial.
        package var serial: UInt32
        /// Serial of the certificate (or root) that signed this one.
        package var issuerSerial: UInt32
        /// The certified X25519 public key (32 bytes).
        package var key: [UInt8]
        /// Unix seconds; absent means no lower bound.
        package var notBefore: UInt64?
        /// Unix seconds; absent means no expiry.
        package var notAfter: UInt64?

        /// A value with the given fields.
        package init(serial: UInt32, issuerSerial: UInt32, key: [UInt8], notBefore: UInt64?, notAfter: UInt64?) {
            self.serial = serial
            self.issuerSerial = issuerSerial
            self.key = key
            self.notBefore = notBefore
            self.notAfter = notAfter
        }

        /// Parses the protobuf wire form; unknown fields are skipped.
        package init(serialized bytes: [UInt8]) throws(ProtocolError) {
            var reader = ProtoReader(bytes)
            var serial: UInt32 = 0
            var issuerSerial: UInt32 = 0
            var key: [UInt8] = []
            var notBefore: UInt64?
            var notAfter: UInt64?
            while let (field, value) = try reader.next() {
                switch field {
                case 1: serial = try value.uint32("serial")
                case 2: issuerSerial = try value.uint32("issuerSerial")
                case 3: key = try value.bytes("key")
                case 4: notBefore = try value.varint("notBefore")
                case 5: notAfter = try value.varint("notAfter")
                default: continue
                }
            }
            self.init(serial: serial, issuerSerial: issuerSerial, key: key, notBefore: notBefore, notAfter: notAfter)
        }

        /// The wire form, all five fields written (as the reference vectors are).
        package func serialized() -> [UInt8] {
            var writer = ProtoWriter()
            writer.varint(1, UInt64(serial))
            writer.varint(2, UInt64(issuerSerial))
            writer.bytes(3, key)
            writer.varint(4, ifPresent: notBefore)
            writer.varint(5, ifPresent: notAfter)
            return writer.bytes
        }

        func isValid(at now: UInt64) -> Bool {
            (notBefore.map { $0 <= now } ?? true) && (notAfter.map { now <= $0 } ?? true)
        }
    }

    /// WhatsApp's production root ("WA cert") public key; identical in whatsmeow, Baileys and whatsapp-rust.
    package static let whatsAppRootPublicKey: [UInt8] = [
        0x14, 0x23, 0x75, 0x57, 0x4d, 0x0a, 0x58, 0x71, 0x66, 0xaa, 0xe7, 0x1e, 0xbe, 0x51, 0x64, 0x37,
        0xc4, 0xa2, 0x8b, 0x73, 0xe3, 0x69, 0x5c, 0x6c, 0xe1, 0xf7, 0xf9, 0x54, 0x5d, 0xa8, 0xee, 0x6b,
    ]
    /// The serial the root signs as, i.e. the issuer serial every intermediate must carry.
    package static let rootSerial: UInt32 = 0

    /// Field 1: the certificate for the server's static key.
    package var leaf: Certificate?
    /// Field 2: the certificate signed by the root.
    package var intermediate: Certificate?

    /// A chain of the two certificates.
    package init(leaf: Certificate?, intermediate: Certificate?) {
        self.leaf = leaf
        self.intermediate = intermediate
    }

    /// Parses the protobuf wire form; unknown fields are skipped.
    package init(serialized bytes: [UInt8]) throws(ProtocolError) {
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            guard field == 1 || field == 2 else { continue }
            var inner = ProtoReader(try value.bytes("certificate"))
            var certificate = Certificate(details: nil, signature: nil)
            while let (innerField, innerValue) = try inner.next() {
                if innerField == 1 { certificate.details = try innerValue.bytes("certificate.details") }
                if innerField == 2 { certificate.signature = try innerValue.bytes("certificate.signature") }
            }
            if field == 1 { leaf = certificate } else { intermediate = certificate }
        }
    }

    /// The protobuf wire form: fields in number order, absent optionals omitted.
    package func serialized() -> [UInt8] {
        var writer = ProtoWriter()
        for (field, certificate) in [(1, leaf), (2, intermediate)] {
            guard let certificate else { continue }
            var inner = ProtoWriter()
            inner.bytes(1, ifPresent: certificate.details)
            inner.bytes(2, ifPresent: certificate.signature)
            writer.bytes(field, inner.bytes)
        }
        return writer.bytes
    }

    // MARK: - Verification

    /// Checks the chain the way whatsmeow does (the stricter reference), in its order: both certificates
    /// present with 64-byte signatures; intermediate signed by `rootPublicKey`; intermediate issuer serial is
    /// the root's (0) and its key is 32 bytes; leaf signed by the intermediate key; intermediate valid at
    /// `now`; leaf issuer serial equals the intermediate serial; leaf key equals (constant-time) the server
    /// static key the handshake decrypted; leaf valid at `now`. Returns the parsed leaf and intermediate.
    ///
    /// Binding the leaf key to the handshake's static key is what stops a server from replaying a genuine
    /// chain with its own key (Baileys skips that check; we do not).
    package func verify(
        rootPublicKey: [UInt8], serverStaticKey: [UInt8], now: UInt64
    ) throws(ProtocolError) -> (leaf: Details, intermediate: Details) {
        guard let leafDetails = leaf?.details, let leafSignature = leaf?.signature,
            let intermediateDetails = intermediate?.details, let intermediateSignature = intermediate?.signature
        else { throw ProtocolError.certificate("chain is missing a certificate, details or signature") }
        guard leafSignature.count == 64, intermediateSignature.count == 64 else {
            throw ProtocolError.certificate("certificate signature is not 64 bytes")
        }
        guard
            Crypto.xeddsaVerify(
                publicKey: rootPublicKey, message: intermediateDetails, signature: intermediateSignature)
        else { throw ProtocolError.certificate("intermediate signature does not verify against the root key") }
        let parsedIntermediate = try Details(serialized: intermediateDetails)
        guard parsedIntermediate.issuerSerial == Self.rootSerial else {
            throw ProtocolError.certificate(
                "intermediate issuer serial \(parsedIntermediate.issuerSerial) is not the root's")
        }
        guard parsedIntermediate.key.count == 32 else {
            throw ProtocolError.certificate("intermediate key is not 32 bytes")
        }
        guard Crypto.xeddsaVerify(publicKey: parsedIntermediate.key, message: leafDetails, signature: leafSignature)
        else { throw ProtocolError.certificate("leaf signature does not verify against the intermediate key") }
        guard parsedIntermediate.isValid(at: now) else {
            throw ProtocolError.certificate("intermediate is not valid now")
        }
        let parsedLeaf = try Details(serialized: leafDetails)
        guard parsedLeaf.issuerSerial == parsedIntermediate.serial else {
            throw ProtocolError.certificate("leaf issuer serial does not match the intermediate serial")
        }
        guard Crypto.constantTimeEquals(parsedLeaf.key, serverStaticKey) else {
            throw ProtocolError.certificate("leaf key is not the server's static key")
        }
        guard parsedLeaf.isValid(at: now) else { throw ProtocolError.certificate("leaf is not valid now") }
        return (parsedLeaf, parsedIntermediate)
    }

    // MARK: - Issuing (simulator)

    /// Builds a chain as a test server needs it: the root signs the intermediate, the intermediate signs a
    /// leaf for `serverStaticKey`. `random` supplies the two 64-byte XEdDSA nonces (intermediate first).
    package static func issue(
        rootPrivateKey: [UInt8], intermediate: Details, intermediatePrivateKey: [UInt8], leaf: Details,
        random: (intermediate: [UInt8], leaf: [UInt8])
    ) throws(ProtocolError) -> NoiseCertificateChain {
        let intermediateBytes = intermediate.serialized()
        let leafBytes = leaf.serialized()
        let intermediateSignature = try ProtocolError.fromCrypto("sign intermediate") { () throws(ReactorError) in
            try Crypto.xeddsaSign(privateKey: rootPrivateKey, message: intermediateBytes, random: random.intermediate)
        }
        let leafSignature = try ProtocolError.fromCrypto("sign leaf") { () throws(ReactorError) in
            try Crypto.xeddsaSign(privateKey: intermediatePrivateKey, message: leafBytes, random: random.leaf)
        }
        return NoiseCertificateChain(
            leaf: Certificate(details: leafBytes, signature: leafSignature),
            intermediate: Certificate(details: intermediateBytes, signature: intermediateSignature))
    }
}
