/// The one error type of the Engines module: what went wrong in domain terms, so the API layer
/// can map it to a status without knowing which store or engine failed.
package struct EngineError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// The named thing does not exist (404).
        case notFound
        /// The request conflicts with current state (409).
        case conflict
        /// The input is invalid in domain terms (400).
        case invalid
        /// The account may not do this (403): not a group admin, not our message.
        case forbidden
        /// A dependency (database, engine) is not available right now (503).
        case unavailable
        /// The active engine cannot do this (501).
        case notSupported
        /// A payload (media) is over its configured cap (413).
        case tooLarge
        /// A configured limit on concurrent work is reached (429): try again later.
        case tooMany
    }

    package let kind: Kind
    package let message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package static func notFound(_ message: String) -> EngineError { EngineError(.notFound, message) }
    package static func conflict(_ message: String) -> EngineError { EngineError(.conflict, message) }
    package static func invalid(_ message: String) -> EngineError { EngineError(.invalid, message) }
    package static func forbidden(_ message: String) -> EngineError { EngineError(.forbidden, message) }
    package static func unavailable(_ message: String) -> EngineError { EngineError(.unavailable, message) }
    package static func notSupported(_ message: String) -> EngineError { EngineError(.notSupported, message) }
    package static func tooLarge(_ message: String) -> EngineError { EngineError(.tooLarge, message) }
    package static func tooMany(_ message: String) -> EngineError { EngineError(.tooMany, message) }

    package var description: String { message }
}
