import Engines
import Foundation

extension GatewayConfiguration {
    /// `MEDIA_DOWNLOAD_MAX_BYTES` (default 50 MiB) caps the media of every send, decoded base64
    /// and downloads alike; `MEDIA_DOWNLOAD_TIMEOUT_MS` bounds a download. URLs are checked with
    /// the webhooks' SSRF policy (`SSRF_ALLOWED_HOSTS` applies to both, as in OpenWA).
    static func mediaDownloadSettings(_ read: ConfigurationReader, urlPolicy: WebhookURLPolicy) throws -> MediaDownloader.Settings {
        var settings = MediaDownloader.Settings()
        settings.maxBytes = try read.byteSize("MEDIA_DOWNLOAD_MAX_BYTES", default: 52_428_800)
        settings.timeoutMilliseconds = try read.integer("MEDIA_DOWNLOAD_TIMEOUT_MS", default: 30_000, range: 100...600_000)
        settings.urlPolicy = urlPolicy
        return settings
    }
}

extension GatewayConfiguration {
    /// Inbound media: `MEDIA_DOWNLOAD_ENABLED` (true; lenient: true/1/yes, anything else is off,
    /// as in OpenWA), `INBOUND_MEDIA_CONCURRENCY` (4), `MESSAGE_LIST_INLINE_MEDIA_BUDGET_BYTES`
    /// (8 MiB), and the same `MEDIA_DOWNLOAD_MAX_BYTES` and
    /// `MEDIA_DOWNLOAD_TIMEOUT_MS` as send media.
    static func inboundMediaSettings(_ read: ConfigurationReader, download: MediaDownloader.Settings) throws -> MediaArchive.Settings {
        var settings = MediaArchive.Settings()
        if let flag = read.optionalString("MEDIA_DOWNLOAD_ENABLED") {
            settings.downloadEnabled = ["true", "1", "yes"].contains(flag.trimmingCharacters(in: .whitespaces).lowercased())
        }
        settings.concurrency = try read.integer("INBOUND_MEDIA_CONCURRENCY", default: 4, range: 1...256)
        settings.listInlineBudgetBytes = try read.integer(
            "MESSAGE_LIST_INLINE_MEDIA_BUDGET_BYTES", default: 8 << 20, range: 0...(256 << 20))
        settings.maxBytes = download.maxBytes
        settings.timeoutMilliseconds = download.timeoutMilliseconds
        return settings
    }
}
