/// An engine that can fetch a stored message's media on demand (the media route, when the
/// message arrived while downloads were off or its download failed).
package protocol MediaFetchingEngine: WhatsAppEngine {
    /// Downloads the media of the stored message `messageID` into the media storage; false when
    /// the engine has nothing to fetch it with.
    func fetchMedia(messageID: String) async throws -> Bool
}

extension SessionManager {
    /// The session's live engine when it is ready and can fetch media.
    package func mediaFetcher(id: String) -> (any MediaFetchingEngine)? {
        guard let live = live[id], live.status == .ready else { return nil }
        return live.engine as? any MediaFetchingEngine
    }
}
