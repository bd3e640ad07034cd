import Foundation

/// One delivery of one event to one webhook (a `webhook_outbox` row).
package struct OutboxRow: Sendable, Equatable {
    package enum Status: String, Sendable {
        case pending, delivered, dead
    }

    package var id: String
    /// Write order; deliveries of one lane go out in this order.
    package var seq: Int64
    package var webhookId: String
    package var sessionId: String
    package var event: String
    package var url: String
    /// The lane within the webhook whose order is kept: the chat for message events, else the session.
    package var orderKey: String
    package var idempotencyKey: String
    package var deliveryId: String
    /// The exact JSON body sent on every attempt.
    package var body: String
    package var status: Status
    package var attempts: Int
    package var lastStatusCode: Int?
    package var lastError: String?
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        id: String, seq: Int64, webhookId: String, sessionId: String, event: String, url: String, orderKey: String,
        idempotencyKey: String, deliveryId: String, body: String, status: Status = .pending, attempts: Int = 0,
        lastStatusCode: Int? = nil, lastError: String? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.seq = seq
        self.webhookId = webhookId
        self.sessionId = sessionId
        self.event = event
        self.url = url
        self.orderKey = orderKey
        self.idempotencyKey = idempotencyKey
        self.deliveryId = deliveryId
        self.body = body
        self.status = status
        self.attempts = attempts
        self.lastStatusCode = lastStatusCode
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The webhook outbox on the data database. Rows are written in batches, inside the caller's
/// transaction when the event's source data is written in the same one.
package final class SQLWebhookOutboxStore: Sendable {
    private let database: any SQLDatabase
    /// Rows per multi-row INSERT or `IN (...)` list: far below both engines' bind limits.
    private static let chunk = 256

    /// The statement texts for every size `take` hands out, built once.
    private static let sizes = (0...8).map { 1 << $0 }
    private static let insertStatements: [Int: String] = Dictionary(uniqueKeysWithValues: sizes.map { size in
        let rows = (0..<size).map { row in "(" + (1...16).map { "$\(row * 16 + $0)" }.joined(separator: ", ") + ")" }
        return (size, "INSERT INTO webhook_outbox (\(columns)) VALUES \(rows.joined(separator: ", "))")
    })
    private static let markStatements: [Int: String] = Dictionary(uniqueKeysWithValues: sizes.map { size in
        let list = (0..<size).map { "$\($0 + 2)" }.joined(separator: ", ")
        return (size, "UPDATE webhook_outbox SET \"status\" = 'delivered', \"updatedAt\" = $1 WHERE \"id\" IN (\(list))")
    })

    /// How many of `count` items the next statement takes: a full chunk, else the largest power
    /// of two that fits, so only a handful of distinct statement texts ever exist and each is
    /// prepared once and then found in the connection's statement cache (a statement with
    /// hundreds of parameters costs far more to prepare than to run).
    private static func take(_ count: Int) -> Int {
        count >= chunk ? chunk : 1 << (Int.bitWidth - 1 - count.leadingZeroBitCount)
    }

    package init(database: any SQLDatabase) {
        self.database = database
    }

    private static let columns = """
        "id", "seq", "webhookId", "sessionId", "event", "url", "orderKey", "idempotencyKey", "deliveryId", "body", \
        "status", "attempts", "lastStatusCode", "lastError", "createdAt", "updatedAt"
        """

    /// Inserts `rows` in one transaction of its own.
    package func insert(_ rows: [OutboxRow]) async throws {
        guard !rows.isEmpty else { return }
        try await database.withTransaction { transaction in try await Self.insert(rows, in: transaction) }
    }

    /// Inserts `rows` inside `transaction` (the caller's, which also writes the event's source).
    package static func insert(_ rows: [OutboxRow], in transaction: any AsyncSQLTransaction) async throws {
        var start = 0
        while start < rows.count {
            let slice = rows[start..<start + take(rows.count - start)]
            var binds: [SQLValue] = []
            binds.reserveCapacity(slice.count * 16)
            for row in slice { binds += values(row) }
            _ = try await transaction.execute(insertStatements[slice.count]!, binds)
            start += slice.count
        }
    }

    /// Pending rows in write order after `seq` (what a restart must still deliver), a page at a time.
    package func pending(afterSeq seq: Int64, limit: Int) async throws -> [OutboxRow] {
        try await database.query(
            "SELECT \(Self.columns) FROM webhook_outbox WHERE \"status\" = 'pending' AND \"seq\" > $1 ORDER BY \"seq\" LIMIT $2",
            [.integer(seq), .integer(Int64(limit))]
        ).map(Self.row)
    }

    package func pendingCount() async throws -> Int {
        let rows = try await database.query(#"SELECT COUNT(*) AS n FROM webhook_outbox WHERE "status" = 'pending'"#, [])
        return Int(rows.first?.int("n") ?? 0)
    }

    /// The highest `seq` written so far (new rows continue after it).
    package func maxSeq() async throws -> Int64 {
        try await database.query(#"SELECT MAX("seq") AS m FROM webhook_outbox"#, []).first?.int("m") ?? 0
    }

    /// Marks rows delivered, in few statements (the hot path at high delivery rates).
    package func markDelivered(_ ids: [String], attempts: [String: Int], at date: Date) async throws {
        var start = 0
        while start < ids.count {
            let slice = Array(ids[start..<start + Self.take(ids.count - start)])
            _ = try await database.execute(Self.markStatements[slice.count]!, [SQLValue(date)] + slice.map { .text($0) })
            start += slice.count
        }
    }

    /// Records a failed attempt; `dead` when no attempt is left.
    package func recordFailure(id: String, attempts: Int, statusCode: Int?, error: String, dead: Bool, at date: Date) async throws {
        _ = try await database.execute(
            """
            UPDATE webhook_outbox SET "attempts" = $2, "lastStatusCode" = $3, "lastError" = $4, "status" = $5, \
            "updatedAt" = $6 WHERE "id" = $1
            """,
            [.text(id), .integer(Int64(attempts)), SQLValue(statusCode), .text(error), .text(dead ? "dead" : "pending"), SQLValue(date)])
    }

    /// Dead rows, newest first, optionally of one session or webhook, or with the given ids.
    package func dead(sessionIds: [String]?, webhookId: String?, ids: [String]?, limit: Int, offset: Int) async throws -> [OutboxRow] {
        var conditions = ["\"status\" = 'dead'"]
        var binds: [SQLValue] = [.integer(Int64(limit)), .integer(Int64(offset))]
        if let sessionIds {
            guard !sessionIds.isEmpty else { return [] }
            conditions.append("\"sessionId\" IN (" + sessionIds.map { binds.append(.text($0)); return "$\(binds.count)" }.joined(separator: ", ") + ")")
        }
        if let webhookId {
            binds.append(.text(webhookId))
            conditions.append("\"webhookId\" = $\(binds.count)")
        }
        if let ids {
            guard !ids.isEmpty else { return [] }
            conditions.append("\"id\" IN (" + ids.map { binds.append(.text($0)); return "$\(binds.count)" }.joined(separator: ", ") + ")")
        }
        return try await database.query(
            """
            SELECT \(Self.columns) FROM webhook_outbox WHERE \(conditions.joined(separator: " AND ")) \
            ORDER BY "seq" DESC LIMIT $1 OFFSET $2
            """, binds
        ).map(Self.row)
    }

    /// Puts a dead row back in line with a new delivery id, body and `seq`; false if it was not dead.
    package func revive(id: String, seq: Int64, deliveryId: String, body: String, at date: Date) async throws -> Bool {
        try await database.execute(
            """
            UPDATE webhook_outbox SET "status" = 'pending', "attempts" = 0, "seq" = $2, "deliveryId" = $3, "body" = $4, \
            "updatedAt" = $5 WHERE "id" = $1 AND "status" = 'dead'
            """,
            [.text(id), .integer(seq), .text(deliveryId), .text(body), SQLValue(date)]) > 0
    }

    /// Drops delivered rows older than `date` (retention), and every row of a deleted webhook.
    package func purge(deliveredBefore date: Date) async throws -> Int {
        try await database.execute(
            #"DELETE FROM webhook_outbox WHERE "status" = 'delivered' AND "updatedAt" < $1"#, [SQLValue(date)])
    }

    package func deleteAll(webhookId: String) async throws {
        _ = try await database.execute(#"DELETE FROM webhook_outbox WHERE "webhookId" = $1"#, [.text(webhookId)])
    }

    private static func values(_ row: OutboxRow) -> [SQLValue] {
        [
            .text(row.id), .integer(row.seq), .text(row.webhookId), .text(row.sessionId), .text(row.event), .text(row.url),
            .text(row.orderKey), .text(row.idempotencyKey), .text(row.deliveryId), .text(row.body), .text(row.status.rawValue),
            .integer(Int64(row.attempts)), SQLValue(row.lastStatusCode), SQLValue(row.lastError), SQLValue(row.createdAt),
            SQLValue(row.updatedAt),
        ]
    }

    private static func row(_ row: SQLRow) throws -> OutboxRow {
        OutboxRow(
            id: try row.requiredString("id"), seq: row.int("seq") ?? 0, webhookId: try row.requiredString("webhookId"),
            sessionId: try row.requiredString("sessionId"), event: try row.requiredString("event"),
            url: try row.requiredString("url"), orderKey: try row.requiredString("orderKey"),
            idempotencyKey: try row.requiredString("idempotencyKey"), deliveryId: try row.requiredString("deliveryId"),
            body: try row.requiredString("body"), status: OutboxRow.Status(rawValue: try row.requiredString("status")) ?? .pending,
            attempts: try row.requiredInt("attempts"), lastStatusCode: try row.optionalInt("lastStatusCode"),
            lastError: row.string("lastError"), createdAt: try row.requiredDate("createdAt"),
            updatedAt: try row.requiredDate("updatedAt"))
    }
}
