import Foundation
import Persistence

/// The live state of one batch while it runs (owned by `BulkSender`), and its mapping to and
/// from the stored row's JSON columns.
final class BatchState {
    var record: BatchRecord
    let items: [BulkItem]
    let options: BulkOptions
    private(set) var progress: BulkProgress
    private(set) var results: [BulkResult]

    init(record: BatchRecord, items: [BulkItem], options: BulkOptions, progress: BulkProgress, results: [BulkResult]) {
        self.record = record
        self.items = items
        self.options = options
        self.progress = progress
        self.results = results
    }

    static func decode(_ record: BatchRecord) throws -> BatchState {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        func value<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
            do {
                return try decoder.decode(type, from: Data(text.utf8))
            } catch {
                throw EngineError.unavailable("Batch '\(record.batchId)' is stored in a form this version cannot read")
            }
        }
        return BatchState(
            record: record, items: try value([BulkItem].self, record.messages), options: try value(BulkOptions.self, record.options),
            progress: try value(BulkProgress.self, record.progress), results: try value([BulkResult].self, record.results))
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The row with the current progress and results written into it.
    func encoded() throws -> BatchRecord {
        var copy = record
        copy.progress = try Self.json(progress)
        copy.results = try Self.json(results)
        return copy
    }

    var status: BulkBatch.Status { BulkBatch.Status(rawValue: record.status) ?? .failed }

    var view: BulkBatch {
        let pause = options.delayBetweenMessages + (options.randomizeDelay ? BulkOptions.randomExtraMilliseconds / 2 : 0)
        let estimate = record.createdAt.addingTimeInterval(Double(max(0, items.count - 1) * pause) / 1_000)
        return BulkBatch(
            batchId: record.batchId, sessionId: record.sessionId, status: status, progress: progress, results: results,
            createdAt: record.createdAt, startedAt: record.startedAt, completedAt: record.completedAt, estimatedCompletion: estimate)
    }

    /// Items claimed without a result went out (or not) when the process stopped: reported
    /// failed rather than sent a second time.
    func settleInterrupted() {
        while results.count < min(record.currentIndex, items.count) {
            add(
                BulkResult(
                    chatId: items[results.count].chatId, status: "failed",
                    error: .init(code: "OUTCOME_UNKNOWN", message: "The gateway stopped while this message was being sent")))
        }
    }

    func start() {
        record.status = BulkBatch.Status.processing.rawValue
        record.startedAt = Date()
    }

    func add(_ result: BulkResult) {
        results.append(result)
        progress.pending -= 1
        if result.status == "sent" { progress.sent += 1 } else { progress.failed += 1 }
    }

    /// Ends the batch; what was still pending counts as cancelled unless it completed.
    func finish(_ status: BulkBatch.Status) {
        record.status = status.rawValue
        record.completedAt = Date()
        progress.cancelled += progress.pending
        progress.pending = 0
    }
}

/// Turns a batch item into the message the engine sends: `{{name}}` values into the text and
/// caption, base64 media decoded, URL media fetched through the SSRF-guarded downloader.
struct BulkMessageBuilder {
    let media: MediaDownloader?

    func message(for item: BulkItem) async throws -> OutgoingMessage {
        let values = item.variables ?? [:]
        let mentions = item.mentions ?? []
        guard item.type != .text else {
            let text = MessageTemplates.substitute(item.text ?? "", values)
            return OutgoingMessage(chatID: item.chatId, content: .text(text), mentions: mentions)
        }
        guard let source = item.media else { throw EngineError.invalid("The \(item.type.rawValue) message has no media") }
        let voice = item.type == .audio && source.ptt == true
        let kind: OutgoingMedia.Kind =
            switch item.type {
            case .image: .image
            case .video: .video
            case .audio: voice ? .voice : .audio
            default: .document
            }
        let caption = item.type == .audio ? nil : item.caption.map { MessageTemplates.substitute($0, values) }
        var filename = source.filename
        var attachment: OutgoingMedia
        if let base64 = source.base64 {
            guard let data = Data(base64Encoded: base64) else { throw EngineError.invalid("base64 must be base64 encoded") }
            attachment = OutgoingMedia(
                kind: kind, bytes: Array(data), mimetype: source.mimetype ?? "application/octet-stream", caption: caption)
        } else if let url = source.url, let media {
            let download = try await media.spool(url)
            filename = filename ?? download.filename
            let type = source.mimetype ?? download.contentType ?? (voice ? "audio/ogg; codecs=opus" : "application/octet-stream")
            attachment = OutgoingMedia(kind: kind, file: download.file, mimetype: type, caption: caption)
        } else {
            throw EngineError.notSupported("Media by URL is not available here")
        }
        if kind == .document, filename == nil { filename = "file" }
        attachment.filename = filename
        return OutgoingMessage(chatID: item.chatId, content: .media(attachment), mentions: mentions)
    }
}
