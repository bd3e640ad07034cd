/// `HandshakeMessage` (proto2, ref part 1 §2.4), fields 1–3 of each part only: the XX pattern uses nothing
/// else, and the post-quantum extension fields are skipped on read.
package struct NoiseHandshakeMessage: Sendable, Equatable {
    /// `clientHello` (field 2): the client's ephemeral key.
    package struct ClientHello: Sendable, Equatable {
        /// Field 1: the sender's ephemeral public key (32 bytes, clear).
        package var ephemeral: [UInt8]?
        /// Field `static`: the sender's encrypted static key (32 + 16 bytes).
        package var staticKey: [UInt8]?
        /// Field `payload`: encrypted certificate chain or ClientPayload.
        package var payload: [UInt8]?

        /// A value with the given fields.
        package init(ephemeral: [UInt8]? = nil, staticKey: [UInt8]? = nil, payload: [UInt8]? = nil) {
            self.ephemeral = ephemeral
            self.staticKey = staticKey
            self.payload = payload
        }
    }

    /// `serverHello` (field 3): server ephemeral, encrypted server static, encrypted certificate chain.
    package struct ServerHello: Sendable, Equatable {
        /// Field 1: the sender's ephemeral public key (32 bytes, clear).
        package var ephemeral: [UInt8]?
        /// Field `static`: the sender's encrypted static key (32 + 16 bytes).
        package var staticKey: [UInt8]?
        /// Field `payload`: encrypted certificate chain or ClientPayload.
        package var payload: [UInt8]?

        /// A value with the given fields.
        package init(ephemeral: [UInt8]? = nil, staticKey: [UInt8]? = nil, payload: [UInt8]? = nil) {
            self.ephemeral = ephemeral
            self.staticKey = staticKey
            self.payload = payload
        }
    }

    /// `clientFinish` (field 4): encrypted client static, encrypted ClientPayload.
    package struct ClientFinish: Sendable, Equatable {
        /// Field `static`: the sender's encrypted static key (32 + 16 bytes).
        package var staticKey: [UInt8]?
        /// Field `payload`: encrypted certificate chain or ClientPayload.
        package var payload: [UInt8]?

        /// A value with the given fields.
        package init(staticKey: [UInt8]? = nil, payload: [UInt8]? = nil) {
            self.staticKey = staticKey
            self.payload = payload
        }
    }

    /// Field 2, sent by the client first.
    package var clientHello: ClientHello?
    /// Field 3, the server's answer.
    package var serverHello: ServerHello?
    /// Field 4, the client's last handshake message.
    package var clientFinish: ClientFinish?

    /// A value with the given fields.
    package init(clientHello: ClientHello? = nil, serverHello: ServerHello? = nil, clientFinish: ClientFinish? = nil) {
        self.clientHello = clientHello
        self.serverHello = serverHello
        self.clientFinish = clientFinish
    }

    /// Parses serialized bytes; unknown fields are ignored.
    package init(serialized bytes: [UInt8]) throws(ProtocolError) {
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 2:
                let (ephemeral, staticKey, payload) = try Self.readTriple(value.bytes("clientHello"))
                clientHello = ClientHello(ephemeral: ephemeral, staticKey: staticKey, payload: payload)
            case 3:
                let (ephemeral, staticKey, payload) = try Self.readTriple(value.bytes("serverHello"))
                serverHello = ServerHello(ephemeral: ephemeral, staticKey: staticKey, payload: payload)
            case 4:
                var inner = ProtoReader(try value.bytes("clientFinish"))
                var finish = ClientFinish()
                while let (field, value) = try inner.next() {
                    if field == 1 { finish.staticKey = try value.bytes("clientFinish.static") }
                    if field == 2 { finish.payload = try value.bytes("clientFinish.payload") }
                }
                clientFinish = finish
            default: continue
            }
        }
    }

    /// The wire form, fields in number order (as protobuf encoders emit them).
    package func serialized() -> [UInt8] {
        var writer = ProtoWriter()
        if let hello = clientHello {
            writer.bytes(2, Self.writeTriple(hello.ephemeral, hello.staticKey, hello.payload))
        }
        if let hello = serverHello {
            writer.bytes(3, Self.writeTriple(hello.ephemeral, hello.staticKey, hello.payload))
        }
        if let finish = clientFinish {
            var inner = ProtoWriter()
            inner.bytes(1, ifPresent: finish.staticKey)
            inner.bytes(2, ifPresent: finish.payload)
            writer.bytes(4, inner.bytes)
        }
        return writer.bytes
    }

    // ClientHello and ServerHello share the layout of their first three fields (ephemeral, static, payload).
    private static func readTriple(_ bytes: [UInt8]) throws(ProtocolError) -> ([UInt8]?, [UInt8]?, [UInt8]?) {
        var reader = ProtoReader(bytes)
        var triple: ([UInt8]?, [UInt8]?, [UInt8]?) = (nil, nil, nil)
        while let (field, value) = try reader.next() {
            switch field {
            case 1: triple.0 = try value.bytes("ephemeral")
            case 2: triple.1 = try value.bytes("static")
            case 3: triple.2 = try value.bytes("payload")
            default: continue
            }
        }
        return triple
    }

    private static func writeTriple(_ first: [UInt8]?, _ second: [UInt8]?, _ third: [UInt8]?) -> [UInt8] {
        var writer = ProtoWriter()
        writer.bytes(1, ifPresent: first)
        writer.bytes(2, ifPresent: second)
        writer.bytes(3, ifPresent: third)
        return writer.bytes
    }
}
