/// What the reactor calls when a registered descriptor is ready. Called on the reactor thread.
package protocol IOHandler: AnyObject {
    /// Input is ready (or the peer half-closed): read until the call would block.
    func reactorReadable()
    /// Output space is available; only delivered while write interest is set.
    func reactorWritable()
    /// Hang-up or error on the descriptor: read or write once more to learn which, then close.
    func reactorHangup()
    /// The loop is ending with this handler still registered: release the descriptor now, on
    /// the reactor thread, rather than leak it or close it later from another thread.
    func reactorShutdown()
}

/// Something with output queued that the loop's flush phase writes out.
package protocol FlushTarget: AnyObject {
    func reactorFlush()
}

/// A descriptor's place in the reactor; stale once the descriptor is deregistered.
package struct IORegistration: Hashable, Sendable {
    package let fd: CInt
    let generation: UInt32
}
