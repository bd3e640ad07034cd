import Foundation
import SwiftProtobuf

/// Protobuf encode/decode for Signal messages and records, with every failure mapped to `ProtocolError`.
enum SignalProto {
    static func encode(_ message: some SwiftProtobuf.Message) throws -> [UInt8] {
        do { return try message.serializedBytes() as [UInt8] } catch {
            throw ProtocolError.signalMalformed("cannot serialize \(type(of: message)): \(error)")
        }
    }

    /// Decodes `bytes`; `what` names the structure in the error.
    static func decode<M: SwiftProtobuf.Message>(_ bytes: some Collection<UInt8>, _ what: String) throws -> M {
        do { return try M(serializedBytes: Array(bytes)) } catch {
            throw ProtocolError.signalMalformed("\(what): \(error)")
        }
    }
}
