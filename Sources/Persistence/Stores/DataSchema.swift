/// Migrations of the data database: sessions, messages, engine auth state, webhooks and their
/// outbox, send idempotency keys, chat states, message templates and bulk-send batches.
///
/// Column names are OpenWA's camelCase names, double-quoted so PostgreSQL keeps their case.
package enum DataSchema {
    /// Every data-database migration, oldest first.
    package static let migrations: [Migration] = [
        Migration(version: 1, name: "create_sessions", sql: sessions),
        Migration(version: 2, name: "create_messages", sql: messages),
        Migration(version: 3, name: "create_auth_state", sql: authState),
        Migration(version: 4, name: "create_webhooks", sql: webhooks),
        Migration(version: 5, name: "create_send_idempotency_keys", sql: sendIdempotencyKeys),
        Migration(version: 6, name: "create_chat_states", sql: chatStates),
        Migration(version: 7, name: "drop_single_column_message_indexes", sql: { _ in droppedMessageIndexes }),
        Migration(version: 8, name: "create_templates", sql: templates),
        Migration(version: 9, name: "create_message_batches", sql: messageBatches),
        Migration(version: 10, name: "index_pending_messages", sql: { _ in pendingMessagesIndex }),
    ]

    /// Outgoing rows still waiting for WhatsApp's ack, for the reaper: a partial index holds only
    /// those, so it stays a few pages however large the table grows.
    private static let pendingMessagesIndex = """
        CREATE INDEX "IDX_messages_pending_createdAt" ON messages ("createdAt") WHERE "status" = 'pending';
        """

    /// OpenWA's single-column indexes on `chatId`, `status` and `createdAt`: every query here names
    /// the session first, so the composite indexes serve them all, while each of these cost a page
    /// of WAL on every insert (and on every status change, for `status`): 30 % of the pages in
    /// the WAL of a run receiving 1,000 messages a second.
    private static let droppedMessageIndexes = """
        DROP INDEX IF EXISTS "IDX_messages_chatId";
        DROP INDEX IF EXISTS "IDX_messages_status";
        DROP INDEX IF EXISTS "IDX_messages_createdAt";
        """

    /// `config` is a JSON object (unknown keys are kept), `status` one of OpenWA's session
    /// statuses. `nodeId`, `claimedAt`, `nodeUrl` and `leaseExpiresAt` record which node owns the
    /// session in a multi-node deployment; `desiredState` is what the operator last asked for
    /// (started or stopped), so a restart restores it. Timestamps are ISO-8601 UTC text.
    private static func sessions(_ dialect: SQLDialect) -> String {
        """
        CREATE TABLE sessions (
            "id" TEXT NOT NULL PRIMARY KEY,
            "name" TEXT NOT NULL UNIQUE,
            "status" TEXT NOT NULL DEFAULT 'created',
            "phone" TEXT,
            "pushName" TEXT,
            "config" TEXT NOT NULL DEFAULT '{}',
            "proxyUrl" TEXT,
            "proxyType" TEXT,
            "connectedAt" TEXT,
            "lastActiveAt" TEXT,
            "nodeId" TEXT,
            "claimedAt" TEXT,
            "nodeUrl" TEXT,
            "leaseExpiresAt" TEXT,
            "desiredState" TEXT,
            "createdAt" TEXT NOT NULL,
            "updatedAt" TEXT NOT NULL
        );
        """
    }

    /// OpenWA's `messages` (reference 7.2): one row per message sent or received. `timestamp` is
    /// WhatsApp's (seconds since the epoch), `createdAt` ours (ISO text). The UNIQUE pair
    /// (`sessionId`, `waMessageId`) deduplicates redelivered inbound messages; NULL ids (a send
    /// not yet acknowledged) never collide. Full-text search (FTS5 / tsvector) comes with search.
    private static func messages(_ dialect: SQLDialect) -> String {
        """
        CREATE TABLE messages (
            "id" TEXT NOT NULL PRIMARY KEY,
            "sessionId" TEXT NOT NULL,
            "waMessageId" TEXT,
            "chatId" TEXT NOT NULL,
            "chatName" TEXT,
            "author" TEXT,
            "from" TEXT,
            "to" TEXT,
            "body" TEXT,
            "type" TEXT NOT NULL DEFAULT 'text',
            "direction" TEXT NOT NULL DEFAULT 'outgoing',
            "timestamp" \(dialect.bigIntegerType),
            "metadata" TEXT,
            "status" TEXT NOT NULL DEFAULT 'sent',
            "createdAt" TEXT NOT NULL,
            "mediaPath" TEXT,
            "mediaMimetype" TEXT
        );
        CREATE UNIQUE INDEX "UQ_messages_session_waMessageId" ON messages ("sessionId", "waMessageId");
        CREATE INDEX "IDX_messages_session_createdAt" ON messages ("sessionId", "createdAt");
        CREATE INDEX "IDX_messages_chatId" ON messages ("chatId");
        CREATE INDEX "IDX_messages_session_chat_createdAt" ON messages ("sessionId", "chatId", "createdAt");
        CREATE INDEX "IDX_messages_status" ON messages ("status");
        CREATE INDEX "IDX_messages_createdAt" ON messages ("createdAt");
        CREATE INDEX "IDX_messages_mediaPath" ON messages ("mediaPath") WHERE "mediaPath" IS NOT NULL;
        """
    }

    /// Engine credentials and keys (`SQLAuthStateStore`): one opaque value per session and key.
    private static func authState(_ dialect: SQLDialect) -> String {
        """
        CREATE TABLE auth_state (
            "sessionId" TEXT NOT NULL,
            "key" TEXT NOT NULL,
            "value" \(dialect == .sqlite ? "BLOB" : "BYTEA") NOT NULL,
            "updatedAt" TEXT NOT NULL,
            PRIMARY KEY ("sessionId", "key")
        );
        """
    }

    /// OpenWA's per-session webhooks, and the outbox of their deliveries. `events`, `headers` and
    /// `filters` are JSON text. An outbox row is one delivery of one event to one webhook, with
    /// the exact body to send (signatures cover those bytes). `seq` orders rows as they were
    /// written; `orderKey` (the chat, or the session) is the lane whose order is kept per webhook.
    /// Status: `pending`, `delivered`, or `dead` (the delivery failures OpenWA lists and redrives).
    private static func webhooks(_ dialect: SQLDialect) -> String {
        """
        CREATE TABLE webhooks (
            "id" TEXT NOT NULL PRIMARY KEY,
            "sessionId" TEXT NOT NULL,
            "url" TEXT NOT NULL,
            "events" TEXT NOT NULL,
            "secret" TEXT,
            "headers" TEXT,
            "filters" TEXT,
            "active" \(dialect.booleanType) NOT NULL,
            "retryCount" INTEGER NOT NULL,
            "lastTriggeredAt" TEXT,
            "createdAt" TEXT NOT NULL,
            "updatedAt" TEXT NOT NULL
        );
        CREATE INDEX "IDX_webhooks_sessionId" ON webhooks ("sessionId");
        CREATE TABLE webhook_outbox (
            "id" TEXT NOT NULL PRIMARY KEY,
            "seq" \(dialect.bigIntegerType) NOT NULL,
            "webhookId" TEXT NOT NULL,
            "sessionId" TEXT NOT NULL,
            "event" TEXT NOT NULL,
            "url" TEXT NOT NULL,
            "orderKey" TEXT NOT NULL,
            "idempotencyKey" TEXT NOT NULL,
            "deliveryId" TEXT NOT NULL,
            "body" TEXT NOT NULL,
            "status" TEXT NOT NULL,
            "attempts" INTEGER NOT NULL,
            "lastStatusCode" INTEGER,
            "lastError" TEXT,
            "createdAt" TEXT NOT NULL,
            "updatedAt" TEXT NOT NULL
        );
        CREATE INDEX "IDX_webhook_outbox_status_seq" ON webhook_outbox ("status", "seq");
        CREATE INDEX "IDX_webhook_outbox_webhookId" ON webhook_outbox ("webhookId");
        """
    }

    /// OpenWA's `send_idempotency_keys`: one row per (session, `Idempotency-Key`) of a send, held
    /// 24 hours. `bodyHash` is the SHA-256 of the request body, so a reused key with another body
    /// or route is refused; `response` is the JSON body replayed for a retry.
    private static func sendIdempotencyKeys(_ dialect: SQLDialect) -> String {
        """
        CREATE TABLE send_idempotency_keys (
            "sessionId" TEXT NOT NULL,
            "key" TEXT NOT NULL,
            "state" TEXT NOT NULL,
            "route" TEXT NOT NULL,
            "bodyHash" TEXT NOT NULL,
            "statusCode" INTEGER,
            "response" TEXT,
            "createdAt" TEXT NOT NULL,
            PRIMARY KEY ("sessionId", "key")
        );
        CREATE INDEX "IDX_send_idempotency_keys_createdAt" ON send_idempotency_keys ("createdAt");
        """
    }

    /// OpenWA's `chat_states`: per (session, chat) what the account's app state says of the chat.
    /// `muteExpiration` is milliseconds since the epoch, 0 for ever, NULL when not muted.
    private static func chatStates(_ dialect: SQLDialect) -> String {
        """
        CREATE TABLE chat_states (
            "sessionId" TEXT NOT NULL,
            "chatId" TEXT NOT NULL,
            "archived" \(dialect.booleanType) NOT NULL,
            "pinned" \(dialect.booleanType) NOT NULL,
            "muted" \(dialect.booleanType) NOT NULL,
            "muteExpiration" \(dialect.bigIntegerType),
            "updatedAt" TEXT NOT NULL,
            PRIMARY KEY ("sessionId", "chatId")
        );
        """
    }

    /// OpenWA's `templates`: message text with `{{name}}` placeholders, named uniquely per session.
    private static func templates(_ dialect: SQLDialect) -> String {
        """
        CREATE TABLE templates (
            "id" TEXT NOT NULL PRIMARY KEY,
            "sessionId" TEXT NOT NULL,
            "name" TEXT NOT NULL,
            "body" TEXT NOT NULL,
            "header" TEXT,
            "footer" TEXT,
            "createdAt" TEXT NOT NULL,
            "updatedAt" TEXT NOT NULL
        );
        CREATE UNIQUE INDEX "UQ_templates_session_name" ON templates ("sessionId", "name");
        """
    }

    /// OpenWA's `message_batches` (snake_case, unlike every other table): one bulk send, its
    /// items and options as given, its progress and per-item results as JSON text.
    private static func messageBatches(_ dialect: SQLDialect) -> String {
        """
        CREATE TABLE message_batches (
            "id" TEXT NOT NULL PRIMARY KEY,
            "batch_id" TEXT NOT NULL,
            "session_id" TEXT NOT NULL,
            "status" TEXT NOT NULL,
            "messages" TEXT NOT NULL,
            "options" TEXT NOT NULL,
            "progress" TEXT NOT NULL,
            "results" TEXT NOT NULL,
            "current_index" INTEGER NOT NULL,
            "created_at" TEXT NOT NULL,
            "updated_at" TEXT NOT NULL,
            "started_at" TEXT,
            "completed_at" TEXT
        );
        CREATE UNIQUE INDEX "UQ_message_batches_session_batch" ON message_batches ("session_id", "batch_id");
        CREATE INDEX "IDX_message_batches_status" ON message_batches ("status");
        """
    }
}
