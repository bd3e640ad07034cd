import Engines
import Foundation
import Persistence
import Reactor
import TestSupport

/// The media storage of a `TestGateway`: local files, or a fresh bucket on the test S3 server.
enum TestMediaStorage {
    static func archive(
        _ configuration: MediaStorageConfiguration, data: any SQLDatabase, settings: MediaArchive.Settings, workers: WorkerPool,
        handle: ReactorHandle
    ) async throws -> MediaArchive {
        let storage: any MediaStorage
        switch configuration {
        case .local(let path):
            storage = LocalMediaStorage(root: path, workers: workers)
        case .s3(let s3):
            let bucket = try await handle.submit { reactor in
                try S3MediaStorage(configuration: s3, http: SharedHTTPClient(reactor: reactor), timeoutMilliseconds: 10_000)
            }
            try await bucket.createBucket()
            storage = bucket
        }
        return MediaArchive(database: data, storage: storage, settings: settings, workers: workers, logger: quietLogger)
    }

    /// A fresh bucket on the services' S3 server; nil when it is not running.
    static func s3() -> MediaStorageConfiguration? {
        guard let endpoint = S3TestEnvironment.endpoint else { return nil }
        return .s3(
            S3Configuration(
                endpoint: endpoint, bucket: "media-" + UUID().uuidString.prefix(8).lowercased(), accessKeyID: "test-key",
                secretAccessKey: "test-secret"))
    }
}
