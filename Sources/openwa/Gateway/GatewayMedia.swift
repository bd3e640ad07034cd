import Engines
import Foundation
import Logging
import Persistence
import Reactor

/// The media storage of `STORAGE_TYPE` (local files or an S3 bucket) and the archive of
/// received media on top of it.
enum GatewayMedia {
    static func archive(
        _ configuration: GatewayConfiguration, data: any SQLDatabase, workers: WorkerPool, handle: ReactorHandle, logger: Logger
    ) async throws -> MediaArchive {
        let storage: any MediaStorage
        switch configuration.storage {
        case .local(let path):
            storage = LocalMediaStorage(root: path, workers: workers)
        case .s3(let s3):
            storage = try await handle.submit { reactor in
                try S3MediaStorage(configuration: s3, http: SharedHTTPClient(reactor: reactor))
            }
        }
        // Spool files a killed process left behind would otherwise stay until the host reboots.
        let swept = try await workers.anyLane().run { MediaSpoolFile.sweepStale() }
        if swept > 0 { logger.info("removed stale media spool files", metadata: ["count": "\(swept)"]) }
        return MediaArchive(database: data, storage: storage, settings: configuration.inboundMedia, workers: workers, logger: logger)
    }
}
