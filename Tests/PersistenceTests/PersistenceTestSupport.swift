import Foundation
import Persistence
import Reactor
import Testing

/// A private temporary directory and worker pool for one test. Tests run in parallel in one
/// process, so nothing is shared between them.
struct Scratch {
    let directory: String
    let pool: WorkerPool

    func path(_ relative: String) -> String { directory + "/" + relative }
}

/// Runs `body` with a fresh `Scratch`, removing the directory afterwards.
///
/// Closures passed to these helpers spell out `async throws in`: when every `try` in a closure
/// sits inside `#expect`, the compiler infers the closure's effects before expanding the macro and
/// rejects the `try`s as unhandled.
func withScratch<T>(_ body: (Scratch) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("openwa-persistence-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(Scratch(directory: directory, pool: WorkerPool(size: 2)))
}

/// Runs `body` with a freshly opened database migrated with `migrations`, closing it afterwards
/// whether or not the body throws.
func withDatabase<T>(
    named name: String = "main", migrations: [Migration] = [],
    _ body: (SQLiteDatabase, Scratch) async throws -> T
) async throws -> T {
    try await withScratch { scratch async throws in
        let database = try await SQLiteDatabase.open(
            path: scratch.path("db/\(name).sqlite"), name: name, pool: scratch.pool)
        do {
            try await Migrator.migrate(database, migrations)
            let result = try await body(database, scratch)
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }
}

/// The POSIX permission bits of a file.
func permissions(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return try #require(attributes[.posixPermissions] as? Int) & 0o777
}

/// A fixed instant with whole milliseconds, so values survive the millisecond-precision columns.
let referenceDate = Date(timeIntervalSince1970: 1_795_967_291.123)

/// An API key with a unique hash and defaults for everything a test does not care about.
func makeKey(
    _ label: String, role: String = "operator", createdAt: Date = referenceDate,
    allowedIps: [String]? = nil, allowedSessions: [String]? = nil, allowedChats: [String]? = nil,
    isActive: Bool = true, expiresAt: Date? = nil
) -> ApiKeyRecord {
    let hash = (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").lowercased()
    return ApiKeyRecord(
        id: UUID().uuidString.lowercased(), name: label, keyHash: hash, keyPrefix: "owa_" + label.prefix(8),
        role: role, allowedIps: allowedIps, allowedSessions: allowedSessions, allowedChats: allowedChats,
        isActive: isActive, expiresAt: expiresAt, createdAt: createdAt, updatedAt: createdAt)
}

/// An error a test throws on purpose.
struct DeliberateFailure: Error, Equatable {}
