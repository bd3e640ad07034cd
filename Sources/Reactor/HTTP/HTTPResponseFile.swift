internal import Glibc

/// A response body that stays on disk: an open file the connection reads in chunks on a worker
/// lane as the socket drains (`HTTPFileBodyPump`), so serving a large file costs one chunk of
/// memory, not the file. Set it as `HTTPResponse.bodyFile`; `content-length` is its `length`.
///
/// The file is opened up front, by the responder, so a missing file is its error to answer and
/// not a response cut short; the descriptor closes when the body is sent or dropped.
package final class HTTPResponseFile: Sendable {
    let file: LaneFile
    package let length: Int
    /// The path it was opened from, for error messages.
    let name: String

    private init(file: LaneFile, length: Int, name: String) {
        self.file = file
        self.length = length
        self.name = name
    }

    /// Opens the regular file at `path` and takes its current size as the body's length. With
    /// `removing`, the name is unlinked once it is open: the bytes stay readable through the
    /// descriptor and vanish with it (a spool file that must not outlive the response).
    /// Blocking file I/O: call it on a worker lane.
    package static func open(path: String, removing: Bool = false) throws(ReactorError) -> HTTPResponseFile {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { throw ReactorError.syscall("open \(path)", errno: errno) }
        let file = LaneFile()
        file.descriptor = descriptor
        var status = stat()
        if fstat(descriptor, &status) != 0 { throw ReactorError.syscall("stat \(path)", errno: errno) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw ReactorError.protocolViolation("\(path) is not a regular file") }
        if removing { _ = unlink(path) }
        return HTTPResponseFile(file: file, length: Int(status.st_size), name: path)
    }
}
