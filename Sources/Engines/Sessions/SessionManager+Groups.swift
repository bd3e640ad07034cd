import Foundation

extension SessionManager {
    /// The session's engine as `Facet` (groups, presence, ...): 404 for an unknown session, 400
    /// when it is not ready, 501 with `unsupported` when its engine cannot do that.
    func readyEngine<Facet>(id: String, as facet: Facet.Type, unsupported: String) async throws -> Facet {
        guard let live = live[id], let engine = live.engine, live.status == .ready else {
            _ = try await get(id: id)
            throw EngineError.invalid("Session is not ready")
        }
        guard let capable = engine as? Facet else { throw EngineError.notSupported(unsupported) }
        return capable
    }

    /// The session's engine for group work.
    package func groupOperations(id: String) async throws -> any GroupOperations {
        try await readyEngine(id: id, as: (any GroupOperations).self, unsupported: "Groups are not supported by this engine")
    }
}
