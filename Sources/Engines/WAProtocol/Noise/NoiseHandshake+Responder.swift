import Reactor

extension NoiseHandshake {
    /// The server side, as the simulator plays it: `readClientHello(_:)`, `makeServerHello()`,
    /// `readClientFinish(_:)`, each once and in order; anything else throws `.unexpected`.
    package struct Responder: Sendable {
        private enum Stage: Sendable {
            case start, readHello, sentHello, finished
        }

        private var stage = Stage.start
        private var symmetric: NoiseSymmetricState
        private let staticKey: Crypto.X25519KeyPair
        private let ephemeralKey: Crypto.X25519KeyPair
        private let certificateChain: [UInt8]
        private var clientEphemeral: [UInt8] = []

        /// A server handshake with static key `staticKey` (the key the chain's leaf certifies), a fresh
        /// `ephemeralKey`, and the serialized `CertChain` to send.
        package init(staticKey: Crypto.X25519KeyPair, ephemeralKey: Crypto.X25519KeyPair, certificateChain: [UInt8]) {
            symmetric = NoiseSymmetricState(
                protocolName: NoiseHandshake.protocolName, prologue: NoiseHandshake.prologue)
            self.staticKey = staticKey
            self.ephemeralKey = ephemeralKey
            self.certificateChain = certificateChain
        }

        /// The current `h`, for tests.
        package var handshakeHash: [UInt8] { symmetric.handshakeHash }

        /// Message 1: records the client's ephemeral key.
        ///
        /// A ClientHello that also carries `static`/`payload` is an IK attempt; XX ignores those fields, and a
        /// client capable of IK treats the XX answer as the fallback.
        package mutating func readClientHello(_ message: [UInt8]) throws(ProtocolError) {
            guard stage == .start else { throw ProtocolError.unexpected("ClientHello out of order") }
            stage = .finished
            guard let hello = try NoiseHandshakeMessage(serialized: message).clientHello else {
                throw ProtocolError.malformed("handshake message has no clientHello")
            }
            clientEphemeral = try NoiseHandshake.requireKey(hello.ephemeral, "clientHello.ephemeral")
            symmetric.mixHash(clientEphemeral)
            stage = .readHello
        }

        /// Message 2: `<- e, ee, s, es` with the certificate chain as payload.
        package mutating func makeServerHello() throws(ProtocolError) -> [UInt8] {
            guard stage == .readHello else { throw ProtocolError.unexpected("ServerHello out of order") }
            stage = .finished
            symmetric.mixHash(ephemeralKey.publicKey)
            symmetric.mixKey(try NoiseHandshake.dh(ephemeralKey.privateKey, clientEphemeral))
            let encryptedStatic = try symmetric.encryptAndHash(staticKey.publicKey)
            symmetric.mixKey(try NoiseHandshake.dh(staticKey.privateKey, clientEphemeral))
            let encryptedPayload = try symmetric.encryptAndHash(certificateChain)
            stage = .sentHello
            return NoiseHandshakeMessage(
                serverHello: .init(
                    ephemeral: ephemeralKey.publicKey, staticKey: encryptedStatic, payload: encryptedPayload)
            ).serialized()
        }

        /// Message 3: decrypts the client's static key and ClientPayload and returns them with the transport
        /// cipher pair (keys swapped relative to the client). Authenticating the payload (registration vs
        /// login, known device, noise key match) is the caller's job.
        package mutating func readClientFinish(
            _ message: [UInt8]
        ) throws(ProtocolError) -> (client: ClientIdentity, transport: NoiseTransport) {
            guard stage == .sentHello else { throw ProtocolError.unexpected("ClientFinish out of order") }
            stage = .finished
            guard let finish = try NoiseHandshakeMessage(serialized: message).clientFinish,
                let encryptedStatic = finish.staticKey, let encryptedPayload = finish.payload
            else { throw ProtocolError.malformed("clientFinish is missing static or payload") }
            let clientStatic = try symmetric.decryptAndHash(encryptedStatic)
            guard clientStatic.count == 32 else { throw ProtocolError.malformed("client static key is not 32 bytes") }
            symmetric.mixKey(try NoiseHandshake.dh(ephemeralKey.privateKey, clientStatic))
            let payload = try symmetric.decryptAndHash(encryptedPayload)
            let keys = symmetric.split()
            return (
                ClientIdentity(staticKey: clientStatic, payload: payload),
                NoiseTransport(writeKey: keys.responderKey, readKey: keys.initiatorKey)
            )
        }
    }
}
