import Foundation
import Reactor

/// Files on 127.0.0.1 for the send routes' `url` media: GET `/<name>` answers the file with its
/// content type, anything else 404. Its own reactor thread, like the webhook receiver.
package final class MediaFileServer: Sendable {
    package struct File: Sendable {
        package var bytes: [UInt8]
        package var contentType: String

        package init(bytes: [UInt8], contentType: String) {
            self.bytes = bytes
            self.contentType = contentType
        }
    }

    private let handle: ReactorHandle
    package let port: Int

    package static func start(_ files: [String: File]) async throws -> MediaFileServer {
        let handle = try ReactorThread.start(name: "media-files", workers: WorkerPool(size: 1), logger: quietLogger)
        let port = try await handle.submit { reactor in
            let server = try HTTPServer(
                reactor: reactor, configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0),
                responder: FileResponder(files: files))
            reactor.onShutdown { server.closeNow() }
            return server.port
        }
        return MediaFileServer(handle: handle, port: port)
    }

    private init(handle: ReactorHandle, port: Int) {
        self.handle = handle
        self.port = port
    }

    package func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    package func stop() async {
        handle.stop()
        await handle.waitUntilStopped()
    }
}

private final class FileResponder: HTTPResponder {
    let files: [String: MediaFileServer.File]
    init(files: [String: MediaFileServer.File]) { self.files = files }

    func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        let name = String(request.head.path.dropFirst())
        guard let file = files[name] else { return sink.send(HTTPResponse(status: 404, body: Array("no such file".utf8))) }
        sink.send(HTTPResponse(status: 200, headers: HTTPHeaders([("content-type", file.contentType)]), body: file.bytes))
    }
}
