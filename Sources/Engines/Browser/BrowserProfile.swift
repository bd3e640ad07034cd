import Foundation
import Reactor

/// One session's Chromium profile directory, held exclusively while the session runs.
///
/// The profile *is* the session's WhatsApp Web state (IndexedDB, localStorage), so two browsers
/// on one directory would corrupt it. An advisory lock (`openwa.lock`, flock) is taken before
/// launch: a second start on the same profile, in this gateway or another process on the host,
/// is refused cleanly instead of reaching Chromium (which would hand off to the first instance and
/// exit 21). A Chromium started outside openwa is caught through its `SingletonLock`.
final class BrowserProfile {
    let directory: String
    private var lockFD: CInt?

    init(profilesDirectory: String, sessionID: String) {
        let safe = String(sessionID.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        directory = "\(profilesDirectory)/session-\(safe)"
    }

    deinit {
        unlock()
    }

    var isLocked: Bool { lockFD != nil }

    /// Creates the directory if needed and locks it; throws `conflict` when it is in use.
    func lock() throws {
        guard lockFD == nil else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw EngineError.unavailable("cannot create the browser profile directory \(directory): \(error)")
        }
        let fd: CInt?
        do {
            fd = try Spawn.tryLock("\(directory)/openwa.lock")
        } catch {
            throw EngineError.unavailable("cannot lock the browser profile: \(error)")
        }
        guard let fd else { throw EngineError.conflict("The browser profile \(directory) is in use by another session") }
        if let owner = liveSingletonOwner() {
            Spawn.unlock(fd)
            throw EngineError.conflict("The browser profile \(directory) is in use by Chromium process \(owner)")
        }
        lockFD = fd
        clearStaleSingletons()
    }

    func unlock() {
        guard let fd = lockFD else { return }
        Spawn.unlock(fd)
        lockFD = nil
    }

    /// `SingletonLock` is a symlink to `<hostname>-<pid>`. A live process of ours on this host
    /// means another Chromium runs on the profile; anything else is a leftover of a killed one.
    private func liveSingletonOwner() -> Int32? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/SingletonLock"),
            let dash = target.lastIndex(of: "-"), let pid = Int32(target[target.index(after: dash)...])
        else { return nil }
        guard String(target[..<dash]) == Spawn.hostName(), pid > 0, Spawn.isAlive(pid) else { return nil }
        return pid
    }

    /// Chromium refuses a profile whose lock names another host (a container that moved), so
    /// leftovers go once we know the profile is ours alone.
    private func clearStaleSingletons() {
        for name in ["SingletonLock", "SingletonSocket", "SingletonCookie"] {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        }
    }
}
