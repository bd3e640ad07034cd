import Foundation

/// Opens client WebSockets: TCP or TLS, the HTTP upgrade, and the `101` check, in one deadline.
package enum WebSocketConnector {
    /// `url` is `ws://` or `wss://host[:port]/path`; `tls` is the trust for `wss` (system store
    /// when nil). `completion` runs once on the reactor thread.
    package static func connect(
        reactor: Reactor, url: String, tls: TLSContext? = nil, headers: HTTPHeaders = HTTPHeaders(),
        timeoutMilliseconds: Int, maxMessageBytes: Int = 16 << 20,
        completion: @escaping (Result<WebSocketConnection, ReactorError>) -> Void
    ) {
        let httpURL = url.hasPrefix("wss://") ? "https://" + url.dropFirst(6) : url.hasPrefix("ws://") ? "http://" + url.dropFirst(5) : ""
        guard let target = HTTPClientRequest(method: "GET", url: httpURL) else {
            return completion(.failure(.protocolViolation("not a ws:// or wss:// URL: \(url)")))
        }
        let deadline = reactor.now.adding(milliseconds: timeoutMilliseconds)
        let opened: (Result<any ByteStream, ReactorError>) -> Void = { result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(let stream):
                let upgrade = WebSocketUpgrade(reactor: reactor, stream: stream, maxMessageBytes: maxMessageBytes, completion: completion)
                upgrade.start(target: target, headers: headers, deadline: deadline)
            }
        }
        if target.isSecure {
            do {
                let context = try tls ?? TLSContext(clientTrusting: nil)
                TLSConnector.connect(
                    reactor: reactor, host: target.host, port: target.port, context: context, timeoutMilliseconds: timeoutMilliseconds
                ) { opened($0.map { $0 as any ByteStream }) }
            } catch {
                completion(.failure(error as? ReactorError ?? .tls("trust store")))
            }
        } else {
            TCPConnector.connect(reactor: reactor, host: target.host, port: target.port, timeoutMilliseconds: timeoutMilliseconds) {
                opened($0.map { $0 as any ByteStream })
            }
        }
    }
}

/// The client side of the upgrade: sends the request, reads the response head, checks it.
private final class WebSocketUpgrade: ByteStreamDelegate {
    private unowned let reactor: Reactor
    private let stream: any ByteStream
    private let maxMessageBytes: Int
    private var completion: ((Result<WebSocketConnection, ReactorError>) -> Void)?
    private var received: [UInt8] = []
    private var key = ""
    private var timer: TimerID?
    private var keepAlive: WebSocketUpgrade?

    init(
        reactor: Reactor, stream: any ByteStream, maxMessageBytes: Int,
        completion: @escaping (Result<WebSocketConnection, ReactorError>) -> Void
    ) {
        self.reactor = reactor
        self.stream = stream
        self.maxMessageBytes = maxMessageBytes
        self.completion = completion
    }

    func start(target: HTTPClientRequest, headers: HTTPHeaders, deadline: ReactorInstant) {
        keepAlive = self
        stream.delegate = self
        do {
            key = try WebSocketHandshake.makeKey()
        } catch {
            return fail(.tls("random key"))
        }
        timer = reactor.schedule(at: deadline) { [weak self] in self?.fail(.timedOut("WebSocket upgrade")) }
        stream.write(WebSocketHandshake.request(target: target.target, host: target.hostHeader, key: key, extraHeaders: headers))
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        received.append(contentsOf: bytes)
        guard let end = headEnd() else {
            if received.count > 16 * 1024 { fail(.protocolViolation("upgrade response head too large")) }
            return
        }
        let head = String(decoding: received[..<end], as: UTF8.self)
        let leftover = Array(received[(end + 4)...])
        let lines = head.components(separatedBy: "\r\n")
        let status = lines.first?.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        guard status == 101 else { return fail(.protocolViolation("upgrade refused: \(lines.first ?? "")")) }
        let fields = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let accept = fields.first { $0.0 == "sec-websocket-accept" }?.1
        guard accept == WebSocketHandshake.accept(for: key) else { return fail(.protocolViolation("bad Sec-WebSocket-Accept")) }
        let socket = WebSocketConnection(
            reactor: reactor, stream: stream, role: .client, maxMessageBytes: maxMessageBytes, leftover: leftover)
        finish(.success(socket))
    }

    func streamDidReadEOF(_ stream: any ByteStream) { fail(.protocolViolation("connection closed during the upgrade")) }
    func streamDidDrain(_ stream: any ByteStream) {}
    func streamDidClose(_ stream: any ByteStream, error: ReactorError?) {
        finish(.failure(error ?? .protocolViolation("connection closed during the upgrade")))
    }

    private func headEnd() -> Int? {
        guard received.count >= 4 else { return nil }
        for index in 0...(received.count - 4)
        where received[index] == 13 && received[index + 1] == 10 && received[index + 2] == 13 && received[index + 3] == 10 {
            return index
        }
        return nil
    }

    private func fail(_ error: ReactorError) {
        guard completion != nil else { return }
        stream.close(error: error)
        finish(.failure(error))
    }

    private func finish(_ result: Result<WebSocketConnection, ReactorError>) {
        guard let completion else { return }
        self.completion = nil
        if let timer { reactor.cancel(timer) }
        keepAlive = nil
        completion(result)
    }
}
