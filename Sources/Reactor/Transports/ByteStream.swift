/// A reliable, ordered byte stream on the reactor: a TCP connection, or TLS over one. Protocol
/// code (HTTP, WebSocket) is written against this, so it runs over either unchanged.
///
/// Every member is used on the reactor thread only.
package protocol ByteStream: AnyObject {
    var delegate: (any ByteStreamDelegate)? { get set }
    /// The remote address, for logs and IP checks.
    var peerAddress: String { get }
    var isOpen: Bool { get }
    /// False while queued output is above the high-water mark: producers should wait for
    /// `streamDidDrain`.
    var isWritable: Bool { get }
    /// Queues bytes for sending.
    func write(_ bytes: [UInt8])
    /// Stops or resumes reading (backpressure).
    func setReading(_ enabled: Bool)
    /// Sends what is queued (and, for TLS, close_notify), then closes.
    func closeAfterWriting()
    /// Closes at once.
    func close(error: ReactorError?)
}

/// What a stream tells its owner, on the reactor thread.
package protocol ByteStreamDelegate: AnyObject {
    /// Bytes arrived; the buffer is valid only during the call.
    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer)
    /// The peer will send no more.
    func streamDidReadEOF(_ stream: any ByteStream)
    /// Queued output fell to zero after having been above the high-water mark.
    func streamDidDrain(_ stream: any ByteStream)
    /// The stream is closed; no further calls follow.
    func streamDidClose(_ stream: any ByteStream, error: ReactorError?)
}

extension ByteStream {
    package func close() { close(error: nil) }
}
