import Foundation

/// One message of a bulk send (reference 2.5 `send-bulk`), checked by the API and kept as
/// given. Media sent as base64 is kept decoded-and-checked: `base64` holds the bare payload
/// and `mimetype` the type, so the send needs no second validation.
package struct BulkItem: Codable, Sendable, Equatable, Hashable {
    package enum Kind: String, Codable, Sendable, CaseIterable { case text, image, video, audio, document }

    package struct Media: Codable, Sendable, Equatable, Hashable {
        package var url: String?
        package var base64: String?
        package var mimetype: String?
        package var filename: String?
        package var ptt: Bool?

        package init(url: String? = nil, base64: String? = nil, mimetype: String? = nil, filename: String? = nil, ptt: Bool? = nil) {
            self.url = url
            self.base64 = base64
            self.mimetype = mimetype
            self.filename = filename
            self.ptt = ptt
        }
    }

    package var chatId: String
    package var type: Kind
    package var text: String?
    package var media: Media?
    package var caption: String?
    package var mentions: [String]?
    /// `{{name}}` values for the text and the caption.
    package var variables: [String: String]?

    package init(
        chatId: String, type: Kind, text: String? = nil, media: Media? = nil, caption: String? = nil, mentions: [String]? = nil,
        variables: [String: String]? = nil
    ) {
        self.chatId = chatId
        self.type = type
        self.text = text
        self.media = media
        self.caption = caption
        self.mentions = mentions
        self.variables = variables
    }
}

/// `options` of a bulk send: the pause between two messages (1 to 60 s, plus up to 2 s at
/// random unless `randomizeDelay` is false) and whether the first failure ends the batch.
package struct BulkOptions: Codable, Sendable, Equatable {
    package var delayBetweenMessages = 3_000
    package var randomizeDelay = true
    package var stopOnError = false

    package init(delayBetweenMessages: Int = 3_000, randomizeDelay: Bool = true, stopOnError: Bool = false) {
        self.delayBetweenMessages = delayBetweenMessages
        self.randomizeDelay = randomizeDelay
        self.stopOnError = stopOnError
    }

    /// The most the random part adds to one pause.
    static let randomExtraMilliseconds = 2_000
}

/// What became of one message of a batch.
package struct BulkResult: Codable, Sendable, Equatable {
    package struct Failure: Codable, Sendable, Equatable {
        package var code: String
        package var message: String
    }

    package var chatId: String
    /// `sent` or `failed`.
    package var status: String
    package var messageId: String?
    package var sentAt: Date?
    package var error: Failure?
}

/// A batch's counters: every item is in exactly one of sent, failed, pending and cancelled.
package struct BulkProgress: Codable, Sendable, Equatable {
    package var total: Int
    package var sent = 0
    package var failed = 0
    package var pending: Int
    package var cancelled = 0

    init(total: Int) {
        self.total = total
        pending = total
    }
}

/// A batch as the status route shows it.
package struct BulkBatch: Sendable, Equatable {
    package enum Status: String, Sendable { case pending, processing, completed, cancelled, failed }

    package var batchId: String
    package var sessionId: String
    package var status: Status
    package var progress: BulkProgress
    package var results: [BulkResult]
    package var createdAt: Date
    package var startedAt: Date?
    package var completedAt: Date?
    /// When the last message should go, at submission (delays at their expected length).
    package var estimatedCompletion: Date

    package var isTerminal: Bool { status == .completed || status == .cancelled || status == .failed }
}
