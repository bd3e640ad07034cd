/// `ADVEncryptionType` (WAAdv.proto): whether an account or device is end-to-end (E2EE) or hosted.
package enum AdvEncryptionType: Sendable, Equatable {
    case e2ee
    case hosted
    /// A value this code does not know; kept so re-serialising does not change the bytes.
    case unknown(UInt64)

    init(rawValue: UInt64) {
        switch rawValue {
        case 0: self = .e2ee
        case 1: self = .hosted
        default: self = .unknown(rawValue)
        }
    }

    var rawValue: UInt64 {
        switch self {
        case .e2ee: 0
        case .hosted: 1
        case .unknown(let value): value
        }
    }
}

/// `ADVDeviceIdentity`: the device slot the primary grants (ref part 1 §5.4). Optional fields stay absent
/// when unset, so bytes produced by the primary survive a parse/serialize round trip unchanged (the
/// signatures cover the exact bytes, so callers sign and verify `serialized` bytes, never re-encodings).
package struct AdvDeviceIdentity: Sendable, Equatable {
    /// The device slot id the primary allocated.
    package var rawID: UInt32?
    /// Unix seconds when the identity was issued.
    package var timestamp: UInt64?
    /// The key index, echoed in the reply's `key-index` attribute.
    package var keyIndex: UInt32?
    /// E2EE or hosted account.
    package var accountType: AdvEncryptionType?
    /// E2EE or hosted device; selects the account-signature prefix.
    package var deviceType: AdvEncryptionType?

    /// A value with the given fields.
    package init(
        rawID: UInt32? = nil, timestamp: UInt64? = nil, keyIndex: UInt32? = nil, accountType: AdvEncryptionType? = nil,
        deviceType: AdvEncryptionType? = nil
    ) {
        self.rawID = rawID
        self.timestamp = timestamp
        self.keyIndex = keyIndex
        self.accountType = accountType
        self.deviceType = deviceType
    }

    /// Parses the protobuf wire form; unknown fields are skipped.
    package init(serialized bytes: [UInt8]) throws(ProtocolError) {
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 1: rawID = try value.uint32("rawID")
            case 2: timestamp = try value.varint("timestamp")
            case 3: keyIndex = try value.uint32("keyIndex")
            case 4: accountType = AdvEncryptionType(rawValue: try value.varint("accountType"))
            case 5: deviceType = AdvEncryptionType(rawValue: try value.varint("deviceType"))
            default: continue
            }
        }
    }

    /// The protobuf wire form: fields in number order, absent optionals omitted.
    package func serialized() -> [UInt8] {
        var writer = ProtoWriter()
        writer.varint(1, ifPresent: rawID.map(UInt64.init))
        writer.varint(2, ifPresent: timestamp)
        writer.varint(3, ifPresent: keyIndex.map(UInt64.init))
        writer.varint(4, ifPresent: accountType?.rawValue)
        writer.varint(5, ifPresent: deviceType?.rawValue)
        return writer.bytes
    }
}

/// `ADVSignedDeviceIdentity`: the serialized `ADVDeviceIdentity` with the primary's account signature and,
/// once the companion has signed, its device signature.
package struct AdvSignedDeviceIdentity: Sendable, Equatable {
    /// Serialized `ADVDeviceIdentity`, exactly as signed.
    package var details: [UInt8]?
    /// The primary's identity public key (32 bytes); dropped from the companion's reply.
    package var accountSignatureKey: [UInt8]?
    /// The primary's 64-byte XEdDSA signature.
    package var accountSignature: [UInt8]?
    /// The companion's 64-byte XEdDSA signature, added when it accepts the pairing.
    package var deviceSignature: [UInt8]?

    /// A value with the given fields.
    package init(
        details: [UInt8]? = nil, accountSignatureKey: [UInt8]? = nil, accountSignature: [UInt8]? = nil,
        deviceSignature: [UInt8]? = nil
    ) {
        self.details = details
        self.accountSignatureKey = accountSignatureKey
        self.accountSignature = accountSignature
        self.deviceSignature = deviceSignature
    }

    /// Parses the protobuf wire form; unknown fields are skipped.
    package init(serialized bytes: [UInt8]) throws(ProtocolError) {
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 1: details = try value.bytes("details")
            case 2: accountSignatureKey = try value.bytes("accountSignatureKey")
            case 3: accountSignature = try value.bytes("accountSignature")
            case 4: deviceSignature = try value.bytes("deviceSignature")
            default: continue
            }
        }
    }

    /// The protobuf wire form: fields in number order, absent optionals omitted.
    package func serialized() -> [UInt8] {
        var writer = ProtoWriter()
        writer.bytes(1, ifPresent: details)
        writer.bytes(2, ifPresent: accountSignatureKey)
        writer.bytes(3, ifPresent: accountSignature)
        writer.bytes(4, ifPresent: deviceSignature)
        return writer.bytes
    }
}

/// `ADVSignedDeviceIdentityHMAC`: the `device-identity` content of `pair-success`, an
/// `ADVSignedDeviceIdentity` authenticated with the ADV secret from the QR code (or the pairing code).
package struct AdvSignedDeviceIdentityHMAC: Sendable, Equatable {
    /// Serialized `ADVSignedDeviceIdentity`, exactly as MACed.
    package var details: [UInt8]?
    /// HMAC-SHA256 under the ADV secret (32 bytes).
    package var hmac: [UInt8]?
    /// E2EE or hosted account.
    package var accountType: AdvEncryptionType?

    /// A value with the given fields.
    package init(details: [UInt8]? = nil, hmac: [UInt8]? = nil, accountType: AdvEncryptionType? = nil) {
        self.details = details
        self.hmac = hmac
        self.accountType = accountType
    }

    /// Parses the protobuf wire form; unknown fields are skipped.
    package init(serialized bytes: [UInt8]) throws(ProtocolError) {
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 1: details = try value.bytes("details")
            case 2: hmac = try value.bytes("HMAC")
            case 3: accountType = AdvEncryptionType(rawValue: try value.varint("accountType"))
            default: continue
            }
        }
    }

    /// The protobuf wire form: fields in number order, absent optionals omitted.
    package func serialized() -> [UInt8] {
        var writer = ProtoWriter()
        writer.bytes(1, ifPresent: details)
        writer.bytes(2, ifPresent: hmac)
        writer.varint(3, ifPresent: accountType?.rawValue)
        return writer.bytes
    }
}
