/// The QR code a companion shows while unpaired (ref part 1 §5.2):
///
///     https://wa.me/settings/linked_devices#<ref>,<b64 noise pub>,<b64 identity pub>,<b64 adv secret>,<platform>
///
/// One string per `ref` from the server's `pair-device`, shown in order.
package enum PairingQR {
    /// The URL prefix current clients use; older clients sent the bare four fields.
    package static let urlPrefix = "https://wa.me/settings/linked_devices#"

    /// What a QR string carries.
    package struct Contents: Sendable, Equatable {
        /// The opaque `ref` string from `pair-device`.
        package let ref: String
        /// The companion's Noise static key (must equal its handshake static key).
        package let noisePublicKey: [UInt8]
        /// The companion's Signal identity key.
        package let identityPublicKey: [UInt8]
        /// The 32-byte secret that keys the `pair-success` HMAC.
        package let advSecret: [UInt8]
        /// Companion platform id ("1" Chrome … "9", "c"…"f"); nil in the legacy four-field form.
        package let platform: String?

        /// A value with the given fields.
        package init(
            ref: String, noisePublicKey: [UInt8], identityPublicKey: [UInt8], advSecret: [UInt8], platform: String?
        ) {
            self.ref = ref
            self.noisePublicKey = noisePublicKey
            self.identityPublicKey = identityPublicKey
            self.advSecret = advSecret
            self.platform = platform
        }
    }

    /// The QR string for `contents`: standard padded base64 of the raw 32-byte keys and secret.
    package static func string(for contents: Contents) -> String {
        var fields = [
            contents.ref, PairingBase64.encode(contents.noisePublicKey),
            PairingBase64.encode(contents.identityPublicKey),
            PairingBase64.encode(contents.advSecret),
        ]
        if let platform = contents.platform { fields.append(platform) }
        return urlPrefix + fields.joined(separator: ",")
    }

    /// Parses a scanned QR string (the simulator's "scan" hook): strips the optional URL prefix and accepts
    /// four or five fields, as whatsapp-rust's parser does. Keys and secret must decode to 32 bytes.
    package static func parse(_ string: String) throws(ProtocolError) -> Contents {
        let body = string.hasPrefix(urlPrefix) ? string.dropFirst(urlPrefix.count) : Substring(string)
        let fields = body.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 4 || fields.count == 5, !fields[0].isEmpty else {
            throw ProtocolError.malformed("QR string has \(fields.count) fields")
        }
        func key(_ index: Int, _ what: String) throws(ProtocolError) -> [UInt8] {
            guard let bytes = PairingBase64.decode(fields[index]), bytes.count == 32 else {
                throw ProtocolError.malformed("QR \(what) is not 32 bytes of base64")
            }
            return bytes
        }
        return Contents(
            ref: String(fields[0]), noisePublicKey: try key(1, "noise key"),
            identityPublicKey: try key(2, "identity key"),
            advSecret: try key(3, "adv secret"), platform: fields.count == 5 ? String(fields[4]) : nil)
    }
}
