/// The thread-safe face of an `HTTPClient`: any thread or task may send requests; the client
/// itself lives on the reactor thread.
package final class SharedHTTPClient: @unchecked Sendable {
    // `client` is created on the reactor thread and only touched inside work posted to it.
    private let client: HTTPClient
    private let handle: ReactorHandle

    /// Must be called on the reactor thread.
    package init(reactor: Reactor, configuration: HTTPClient.Configuration = HTTPClient.Configuration()) {
        reactor.handle.preconditionInReactorThread()
        self.client = HTTPClient(reactor: reactor, configuration: configuration)
        self.handle = reactor.handle
    }

    package func execute(_ request: HTTPClientRequest, timeoutMilliseconds: Int? = nil) async throws -> HTTPClientResponse {
        try await withCheckedThrowingContinuation { continuation in
            let posted = handle.post { _ in
                self.client.execute(request, timeoutMilliseconds: timeoutMilliseconds) { continuation.resume(with: $0) }
            }
            if !posted { continuation.resume(throwing: ReactorError.stopped) }
        }
    }

    /// Idle connections held, read on the reactor thread.
    package func idleConnectionCount() async throws -> Int {
        try await handle.submit { _ in self.client.idleConnectionCount }
    }

    package func close() {
        handle.post { _ in self.client.close() }
    }
}
