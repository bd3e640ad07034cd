import Foundation
import Persistence
import Testing

@Suite("SQLite statements and values")
struct SQLiteStatementTests {
    @Test func everyValueKindRoundTrips() async throws {
        try await withDatabase { database, _ async throws in
            try await database.execute("CREATE TABLE v (k TEXT PRIMARY KEY, value)")
            let values: [(String, SQLValue)] = [
                ("null", .null),
                ("integer", .integer(Int64.min)),
                ("real", .real(-1.5e300)),
                ("text", .text("héllo 👋 wörld")),
                ("nul", .text("before\u{0}after")),
                ("emptyText", .text("")),
                ("blob", .blob([0, 1, 2, 255, 0])),
                ("emptyBlob", .blob([])),
            ]
            for (key, value) in values {
                try await database.execute("INSERT INTO v (k, value) VALUES ($1, $2)", [.text(key), value])
            }
            for (key, value) in values {
                let row = try #require(try await database.query("SELECT value FROM v WHERE k = $1", [.text(key)]).first)
                #expect(row["value"] == value, "\(key)")
            }
            let types = try await database.query(
                "SELECT typeof(value) AS type FROM v WHERE k = $1", [.text("emptyBlob")])
            #expect(types.first?.string("type") == "blob", "an empty blob must not turn into NULL")
        }
    }

    @Test func rowAccessorsConvertSensibly() async throws {
        try await withDatabase { database, _ async throws in
            let row = try #require(
                try await database.query(
                    "SELECT 1 AS one, 0 AS zero, 't' AS t, '42' AS text42, 2.5 AS real, NULL AS missing, x'00ff' AS bytes"
                ).first)
            #expect(row.bool("one") == true)
            #expect(row.bool("zero") == false)
            #expect(row.bool("t") == true)
            #expect(row.int("text42") == 42)
            #expect(row.string("one") == "1")
            #expect(row.double("real") == 2.5)
            #expect(row.int("real") == nil)
            #expect(row.string("missing") == nil)
            #expect(row.bytes("bytes") == [0, 255])
            #expect(row["absent"] == .null)
            #expect(!row.contains("absent"))
            #expect(row.contains("one"))
            #expect(row.columns == ["one", "zero", "t", "text42", "real", "missing", "bytes"])
        }
    }

    @Test func dollarPlaceholdersBindByNumberAndSkipQuotedText() async throws {
        try await withDatabase { database, _ async throws in
            let row = try #require(
                try await database.query(
                    """
                    SELECT $2 AS second, $1 AS first, $1 AS again, '$1' AS literal, 'it''s $2' AS escaped, \
                    "x$1" AS "quoted$1" -- trailing comment with $1
                    """,
                    [.text("one"), .text("two")]
                ).first)
            #expect(row.string("second") == "two")
            #expect(row.string("first") == "one")
            #expect(row.string("again") == "one")
            #expect(row.string("literal") == "$1")
            #expect(row.string("escaped") == "it's $2")
            #expect(row.contains("quoted$1"))
        }
    }

    @Test func aWrongNumberOfBindsIsRefused() async throws {
        try await withDatabase { database, _ async throws in
            let tooFew = await #expect(throws: PersistenceError.self) {
                _ = try await database.query("SELECT $1 AS a, $2 AS b", [.integer(1)])
            }
            #expect(tooFew?.isConstraintViolation == false)
            #expect(tooFew?.isUnavailable == false)
            #expect(tooFew?.sql == "SELECT $1 AS a, $2 AS b")
            await #expect(throws: PersistenceError.self) {
                _ = try await database.query("SELECT 1", [.integer(1)])
            }
            // The cached statement is still fine with the right binds.
            #expect(
                try await database.query("SELECT $1 AS a, $2 AS b", [.integer(1), .integer(2)]).first?.int("b") == 2)
        }
    }

    @Test func moreThanOneStatementPerCallIsRefused() async throws {
        try await withDatabase { database, _ async throws in
            try await database.execute("CREATE TABLE t (x INTEGER)")
            await #expect(throws: PersistenceError.self) {
                try await database.execute("INSERT INTO t (x) VALUES (1); INSERT INTO t (x) VALUES (2)")
            }
            #expect(try await database.query("SELECT COUNT(*) AS n FROM t").first?.int("n") == 0)
            // A trailing semicolon is not a second statement.
            #expect(try await database.execute("INSERT INTO t (x) VALUES (1);") == 1)
        }
    }

    @Test func syntaxErrorsAreSQLErrorsWithTheStatement() async throws {
        try await withDatabase { database, _ async throws in
            let error = await #expect(throws: PersistenceError.self) { _ = try await database.query("SELEC 1") }
            #expect(error?.isConstraintViolation == false)
            #expect(error?.isUnavailable == false)
            #expect(error?.sql == "SELEC 1")
            #expect(error?.resultCode == 1)
        }
    }

    @Test func manyDistinctStatementsOutgrowTheCacheSafely() async throws {
        try await withDatabase { database, _ async throws in
            for n in 0..<300 {
                let rows = try await database.query("SELECT \(n) AS n, $1 AS bound", [.integer(Int64(n))])
                #expect(rows.first?.int("n") == Int64(n))
            }
        }
    }
}
