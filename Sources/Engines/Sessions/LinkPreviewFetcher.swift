import Foundation
import Logging
import Reactor

/// Builds the preview of the first link in a text (`linkPreview: true`, reference 9.3): the page
/// and its `og:image` are fetched through the media downloader's SSRF guard and deadline, under
/// their own small caps, and the HTML is read on the worker pool. A preview is a nicety: any
/// failure (blocked URL, slow or broken page, no title) is logged and the text goes without one.
package final class LinkPreviewFetcher: Sendable {
    /// At most this much of a page is read; previews come from its head.
    package static let pageBytes = 512 * 1_024
    /// A larger `og:image` is not inlined as the thumbnail.
    package static let thumbnailBytes = 64 * 1_024

    private let pages: MediaDownloader
    private let images: MediaDownloader
    private let workers: WorkerPool
    private let logger: Logger

    /// Must be called on the reactor thread (the HTTP clients live there).
    package init(reactor: Reactor, settings: MediaDownloader.Settings, logger: Logger) {
        var page = settings
        page.maxBytes = min(settings.maxBytes, Self.pageBytes)
        var image = settings
        image.maxBytes = min(settings.maxBytes, Self.thumbnailBytes)
        self.pages = MediaDownloader(reactor: reactor, settings: page)
        self.images = MediaDownloader(reactor: reactor, settings: image)
        self.workers = reactor.workers
        self.logger = logger
    }

    /// The preview of the first http(s) URL in `text`, or nil when there is none or it could not
    /// be built.
    package func preview(for text: String) async -> OutgoingLinkPreview? {
        guard let url = LinkPreviewPage.firstURL(in: text) else { return nil }
        do {
            let page = try await pages.download(url)
            if let type = page.contentType, !type.hasPrefix("text/html"), !type.hasPrefix("application/xhtml") {
                throw EngineError.invalid("the page is \(type), not HTML")
            }
            let bytes = page.bytes
            let summary = try await workers.anyLane().run { LinkPreviewPage.summary(of: bytes) }
            guard let title = summary.title else { throw EngineError.invalid("the page has no title") }
            var preview = OutgoingLinkPreview(url: url, title: title, description: summary.description, isCustom: false)
            if let image = summary.image.flatMap({ LinkPreviewPage.imageURL($0, page: url) }) {
                preview.jpegThumbnail = await thumbnail(image, page: url)
            }
            return preview
        } catch {
            logger.info("link preview left out", metadata: ["url": "\(url)", "error": "\(error)"])
            return nil
        }
    }

    /// The page's image when it is a JPEG under the cap (a thumbnail is inlined as is, never
    /// re-encoded here).
    private func thumbnail(_ url: String, page: String) async -> [UInt8]? {
        do {
            let image = try await images.download(url)
            guard image.bytes.starts(with: [0xFF, 0xD8, 0xFF]) else { throw EngineError.invalid("the image is not a JPEG") }
            return image.bytes
        } catch {
            logger.info("link preview thumbnail left out", metadata: ["url": "\(page)", "image": "\(url)", "error": "\(error)"])
            return nil
        }
    }

    package func close() {
        pages.close()
        images.close()
    }
}
