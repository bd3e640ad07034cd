import Foundation

extension SessionManager {
    /// The session's engine for group work: 404 for an unknown session, 400 when it is not ready,
    /// 501 when its engine cannot manage groups.
    package func groupOperations(id: String) async throws -> any GroupOperations {
        guard let live = live[id], let engine = live.engine, live.status == .ready else {
            _ = try await get(id: id)
            throw EngineError.invalid("Session is not ready")
        }
        guard let groups = engine as? any GroupOperations else {
            throw EngineError.notSupported("Groups are not supported by this engine")
        }
        return groups
    }
}
