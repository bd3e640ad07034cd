import Engines

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
