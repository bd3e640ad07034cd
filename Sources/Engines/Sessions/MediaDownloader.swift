import Foundation
import Reactor

/// Fetches media that a send names by `url` (OpenWA's media DTO), server-side: the URL must pass
/// the same SSRF rules as webhook destinations (`SSRF_ALLOWED_HOSTS`, `WEBHOOK_SSRF_PROTECT`),
/// the body may not pass `MEDIA_DOWNLOAD_MAX_BYTES`, and the whole fetch has a deadline.
/// Redirects are not followed: a 3xx could lead to an address the check never saw.
///
/// Errors are OpenWA's: a refused, unreachable, slow or non-2xx URL is a 400 (`invalid`), a
/// body over the cap a 413 (`tooLarge`).
package final class MediaDownloader: Sendable {
    package struct Settings: Sendable {
        /// `MEDIA_DOWNLOAD_MAX_BYTES`: the cap on decoded base64 and downloaded bodies alike.
        package var maxBytes = 52_428_800
        /// `MEDIA_DOWNLOAD_TIMEOUT_MS`.
        package var timeoutMilliseconds = 30_000
        package var urlPolicy = WebhookURLPolicy()

        package init() {}
    }

    /// A downloaded body with the type the server declared.
    package struct Download: Sendable, Equatable {
        package var bytes: [UInt8]
        /// The `Content-Type` without parameters other than a codec (`audio/ogg; codecs=opus`).
        package var contentType: String?
        /// The last path segment of the URL, percent-decoded, when it has one.
        package var filename: String?
    }

    package let settings: Settings
    private let client: SharedHTTPClient
    private let workers: WorkerPool

    /// Must be called on the reactor thread (the HTTP client lives there).
    package init(reactor: Reactor, settings: Settings) {
        var configuration = HTTPClient.Configuration()
        configuration.maxResponseBytes = settings.maxBytes
        configuration.requestTimeoutMilliseconds = settings.timeoutMilliseconds
        configuration.connectTimeoutMilliseconds = min(settings.timeoutMilliseconds, 10_000)
        // Media hosts are many and rarely asked twice: no pool of idle sockets to keep.
        configuration.idleTimeoutMilliseconds = 1_000
        self.client = SharedHTTPClient(reactor: reactor, configuration: configuration)
        self.workers = reactor.workers
        self.settings = settings
    }

    /// A media body spooled to a file as it arrives, never whole in memory.
    package struct SpooledDownload: Sendable {
        package var file: MediaSpoolFile
        package var contentType: String?
        package var filename: String?
    }

    package func download(_ url: String) async throws -> Download {
        let (response, target) = try await fetch(url, into: nil)
        return Download(
            bytes: response.body, contentType: response.headers["content-type"].map(Self.mediaType),
            filename: Self.filename(target.target))
    }

    /// Like `download`, with the body written to a spool file in chunks under the same cap; a
    /// body over the cap is refused mid-stream and leaves no file.
    package func spool(_ url: String) async throws -> SpooledDownload {
        let path = MediaSpoolFile.freshPath("url-media")
        let (response, target) = try await fetch(url, into: path)
        return SpooledDownload(
            file: MediaSpoolFile(path: path, length: response.bodyLength),
            contentType: response.headers["content-type"].map(Self.mediaType), filename: Self.filename(target.target))
    }

    /// The checked GET of `url`; a non-2xx answer throws (and its spooled body is removed).
    private func fetch(_ url: String, into spoolPath: String?) async throws -> (HTTPClientResponse, WebhookURLPolicy.Target) {
        let target = try WebhookURLPolicy.parse(url)
        try await settings.urlPolicy.check(target, workers: workers)
        var request = HTTPClientRequest(
            method: "GET", host: target.host, port: target.port, target: target.target,
            headers: HTTPHeaders([("accept", "*/*"), ("user-agent", "openwa")]), isSecure: target.isSecure)
        request.responseBodyPath = spoolPath
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeoutMilliseconds: settings.timeoutMilliseconds)
        } catch let error as ReactorError {
            // The response parser stops reading at the cap and says so in its reason.
            if error.operation.hasPrefix("response body exceeds") {
                throw EngineError.tooLarge("Media at url is larger than \(settings.maxBytes) bytes")
            }
            throw EngineError.invalid("Media url could not be fetched: \(error)")
        }
        guard (200..<300).contains(response.status) else {
            if let spoolPath { unlink(spoolPath) }
            throw EngineError.invalid("Media url answered HTTP \(response.status)")
        }
        return (response, target)
    }

    /// `image/png; charset=binary` -> `image/png`; a `codecs` parameter stays (voice notes need it).
    static func mediaType(_ header: String) -> String {
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let kept = parts.dropFirst().filter { $0.lowercased().hasPrefix("codecs=") }
        return ([parts.first?.lowercased() ?? ""] + kept).joined(separator: "; ")
    }

    static func filename(_ target: String) -> String? {
        let path = target.prefix { $0 != "?" && $0 != "#" }
        guard let last = path.split(separator: "/").last, let name = String(last).removingPercentEncoding, !name.isEmpty else {
            return nil
        }
        return name
    }

    package func close() {
        client.close()
    }
}
