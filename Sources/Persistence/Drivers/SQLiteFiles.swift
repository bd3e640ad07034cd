import Foundation
import Glibc

/// Creates a SQLite database file and its directory with private permissions before SQLite opens
/// it.
///
/// The file holds API key hashes and engine credentials, so it must never be world-readable,
/// whatever the process umask says. SQLite creates the `-wal` and `-shm` files with the mode of
/// the database file, so tightening this one file covers all three.
enum SQLiteFiles {
    /// Mode for a directory this code creates: owner only.
    static let directoryMode: mode_t = 0o700
    /// Mode the database file is always set to: owner read/write only.
    static let fileMode: mode_t = 0o600

    /// Makes sure `path`'s parent directory exists (created 0700 when missing) and that `path` is
    /// a regular file with mode 0600, creating it empty when missing. An existing parent keeps its
    /// mode: it may be a shared directory such as `./data` that the operator set up.
    ///
    /// - Throws: `PersistenceError.unavailable` when any step fails.
    static func prepare(path: String, databaseName: String) throws {
        func unavailable(_ reason: String) -> PersistenceError {
            .unavailable(database: databaseName, reason: reason)
        }

        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw unavailable("cannot create \(path): \(parent) is not a directory")
            }
        } else {
            do {
                try FileManager.default.createDirectory(
                    atPath: parent, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: Int(directoryMode)])
            } catch {
                throw unavailable("cannot create directory \(parent): \(error.localizedDescription)")
            }
        }

        // O_CREAT without O_EXCL or O_TRUNC: creates a missing file and leaves an existing one
        // untouched, with no window between a check and the create. Opening a directory for
        // writing fails with EISDIR, which is exactly the refusal wanted.
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, fileMode)
        guard descriptor >= 0 else {
            throw unavailable("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { _ = Glibc.close(descriptor) }
        // Tighten an existing file as well: a file restored from a backup may be 0644.
        guard fchmod(descriptor, fileMode) == 0 else {
            throw unavailable("cannot set mode 0600 on \(path): \(String(cString: strerror(errno)))")
        }
    }
}
