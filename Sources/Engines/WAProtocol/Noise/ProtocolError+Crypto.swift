import Reactor

extension ProtocolError {
    /// Runs a Reactor crypto call, restating its failure as a `ProtocolError` of `kind`.
    ///
    /// Callers check lengths before calling, so what can still fail is either authentication (an AEAD tag, a
    /// CBC padding check) or a resource failure; the call site knows which it is and says so with `kind`.
    @inline(__always)
    static func fromCrypto<T>(
        _ what: String, as kind: ProtocolError.Kind = .crypto, _ body: () throws(ReactorError) -> T
    ) throws(ProtocolError) -> T {
        do {
            return try body()
        } catch {
            throw ProtocolError(kind, "\(what): \(error)")
        }
    }
}
