import Reactor

extension NoiseHandshake {
    /// The client side: `makeClientHello()`, `readServerHello(_:now:)`, `makeClientFinish(payload:)`, each
    /// exactly once and in that order; anything else throws `.unexpected`.
    package struct Initiator: Sendable {
        private enum Stage: Sendable {
            case start, sentHello, readHello, finished
        }

        private var stage = Stage.start
        private var symmetric: NoiseSymmetricState
        private let staticKey: Crypto.X25519KeyPair
        private let ephemeralKey: Crypto.X25519KeyPair
        private let rootPublicKey: [UInt8]
        private var serverEphemeral: [UInt8] = []

        /// A client handshake with its long-lived noise key `staticKey`, a fresh `ephemeralKey`, and the root key
        /// the server's certificate chain must lead to (WhatsApp's by default; a simulator's root in tests).
        package init(
            staticKey: Crypto.X25519KeyPair, ephemeralKey: Crypto.X25519KeyPair,
            rootPublicKey: [UInt8] = NoiseCertificateChain.whatsAppRootPublicKey
        ) {
            symmetric = NoiseSymmetricState(
                protocolName: NoiseHandshake.protocolName, prologue: NoiseHandshake.prologue)
            self.staticKey = staticKey
            self.ephemeralKey = ephemeralKey
            self.rootPublicKey = rootPublicKey
        }

        /// The current `h`, for tests and for channel binding.
        package var handshakeHash: [UInt8] { symmetric.handshakeHash }

        /// Message 1: `-> e`. Returns the serialized HandshakeMessage (the caller prefixes the intro header and
        /// frame length).
        package mutating func makeClientHello() throws(ProtocolError) -> [UInt8] {
            guard stage == .start else { throw ProtocolError.unexpected("ClientHello already sent") }
            stage = .sentHello
            symmetric.mixHash(ephemeralKey.publicKey)
            return NoiseHandshakeMessage(clientHello: .init(ephemeral: ephemeralKey.publicKey)).serialized()
        }

        /// Message 2: `<- e, ee, s, es`. Decrypts the server static key and certificate chain and verifies the
        /// chain against the root key at `now` (unix seconds).
        package mutating func readServerHello(_ message: [UInt8], now: UInt64) throws(ProtocolError) -> ServerIdentity {
            guard stage == .sentHello else { throw ProtocolError.unexpected("ServerHello out of order") }
            stage = .finished  // any failure below ends the handshake
            guard let hello = try NoiseHandshakeMessage(serialized: message).serverHello else {
                throw ProtocolError.malformed("handshake message has no serverHello")
            }
            serverEphemeral = try NoiseHandshake.requireKey(hello.ephemeral, "serverHello.ephemeral")
            guard let encryptedStatic = hello.staticKey, let encryptedPayload = hello.payload else {
                throw ProtocolError.malformed("serverHello is missing static or payload")
            }
            symmetric.mixHash(serverEphemeral)
            symmetric.mixKey(try NoiseHandshake.dh(ephemeralKey.privateKey, serverEphemeral))
            let serverStatic = try symmetric.decryptAndHash(encryptedStatic)
            guard serverStatic.count == 32 else { throw ProtocolError.malformed("server static key is not 32 bytes") }
            symmetric.mixKey(try NoiseHandshake.dh(ephemeralKey.privateKey, serverStatic))
            let chainBytes = try symmetric.decryptAndHash(encryptedPayload)
            let chain = try NoiseCertificateChain(serialized: chainBytes)
            let (leaf, intermediate) = try chain.verify(
                rootPublicKey: rootPublicKey, serverStaticKey: serverStatic, now: now)
            stage = .readHello
            return ServerIdentity(staticKey: serverStatic, leaf: leaf, intermediate: intermediate)
        }

        /// Message 3: `-> s, se`, carrying the ClientPayload protobuf. Returns the serialized HandshakeMessage and
        /// the transport cipher pair; the handshake is then over.
        package mutating func makeClientFinish(
            payload: [UInt8]
        ) throws(ProtocolError) -> (message: [UInt8], transport: NoiseTransport) {
            guard stage == .readHello else { throw ProtocolError.unexpected("ClientFinish out of order") }
            stage = .finished
            // Nonce 1: the counter was not reset after the certificate was decrypted.
            let encryptedStatic = try symmetric.encryptAndHash(staticKey.publicKey)
            symmetric.mixKey(try NoiseHandshake.dh(staticKey.privateKey, serverEphemeral))
            let encryptedPayload = try symmetric.encryptAndHash(payload)
            let message = NoiseHandshakeMessage(
                clientFinish: .init(staticKey: encryptedStatic, payload: encryptedPayload)
            ).serialized()
            let keys = symmetric.split()
            return (message, NoiseTransport(writeKey: keys.initiatorKey, readKey: keys.responderKey))
        }
    }
}
