import Foundation
import Testing
import TestSupport
@testable import Reactor

/// TLS through real sockets: our server and client, and curl as an independent client.
@Suite(.timeLimit(.minutes(1))) struct TLSTests {
    private static let credentials = Result { try TLSCertificateFactory.selfSigned(commonName: "openwa test") }

    private func tlsServer() throws -> (TestHTTPServer, String) {
        let (certificate, key) = try Self.credentials.get()
        var configuration = HTTPServer.Configuration()
        configuration.tls = try TLSContext(serverCertificatePEM: certificate, keyPEM: key)
        return (try TestHTTPServer.start(configuration: configuration), certificate)
    }

    private func caFile(_ pem: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-ca-\(UUID().uuidString).pem")
        try pem.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private func client(trusting ca: URL?) throws -> (ReactorHandle, SharedHTTPClient) {
        var configuration = HTTPClient.Configuration()
        configuration.tls = try TLSContext(clientTrusting: ca?.path)
        let slot = ClientSlot()
        let settings = configuration
        let handle = try ReactorThread.start(workers: WorkerPool(size: 1), logger: quietLogger) { reactor in
            slot.client = SharedHTTPClient(reactor: reactor, configuration: settings)
        }
        return (handle, slot.client!)
    }

    @Test func httpsRoundTripWithATrustedSelfSignedCertificate() async throws {
        let (server, certificate) = try tlsServer()
        let ca = try caFile(certificate)
        defer { try? FileManager.default.removeItem(at: ca) }
        let (handle, client) = try client(trusting: ca)
        for host in ["localhost", "127.0.0.1"] {
            let response = try await client.execute(
                HTTPClientRequest(method: "POST", url: "https://\(host):\(server.port)/secure", body: Array("sealed".utf8))!)
            #expect(String(decoding: response.body, as: UTF8.self) == "POST /secure 6\nsealed")
        }
        handle.stop()
        await handle.waitUntilStopped()
        _ = try await server.stop()
    }

    @Test func anUntrustedCertificateFailsTheHandshake() async throws {
        let (server, _) = try tlsServer()
        let (handle, client) = try client(trusting: nil)  // system store: our certificate is unknown
        let error = await #expect(throws: ReactorError.self) {
            try await client.execute(HTTPClientRequest(method: "GET", url: "https://localhost:\(server.port)/")!)
        }
        #expect(error?.isTLS == true)
        #expect(error?.description.contains("certificate") == true)
        handle.stop()
        await handle.waitUntilStopped()
        // The server is unharmed.
        #expect(try await server.connectionCount() >= 0)
        _ = try await server.stop()
    }

    @Test func aNameTheCertificateDoesNotCoverIsRefused() async throws {
        let (certificate, _) = try Self.credentials.get()
        let (server, _) = try tlsServer()
        let ca = try caFile(certificate)
        defer { try? FileManager.default.removeItem(at: ca) }
        let context = try TLSContext(clientTrusting: ca.path)
        let outcome = ResultBox()
        let handle = try ReactorThread.start(workers: WorkerPool(size: 1), logger: quietLogger)
        _ = try await handle.submit { reactor in
            TLSConnector.connect(
                reactor: reactor, host: "127.0.0.1", port: server.port, context: context, serverName: "wrong.example",
                timeoutMilliseconds: 5_000
            ) { result in
                outcome.set(result.map { connection in connection.close(); return () })
            }
        }
        let result = try await outcome.wait()
        guard case .failure(let error) = result else {
            Issue.record("connected despite a name mismatch")
            return
        }
        #expect(error.isTLS)
        handle.stop()
        await handle.waitUntilStopped()
        _ = try await server.stop()
    }

    @Test func curlTalksToOurTLSServer() async throws {
        let (server, certificate) = try tlsServer()
        let ca = try caFile(certificate)
        defer { try? FileManager.default.removeItem(at: ca) }
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sS", "--cacert", ca.path, "https://localhost:\(server.port)/from-curl"]
        let output = Pipe()
        curl.standardOutput = output
        try ProcessLaunch.run(curl)
        let data = try await blocking { output.fileHandleForReading.readDataToEndOfFile() }
        awaitExit(curl)
        #expect(exitStatus(of: curl) == 0)
        #expect(String(decoding: data, as: UTF8.self) == "GET /from-curl 0\n")
        _ = try await server.stop()
    }
}

import Synchronization

/// A one-shot result handed from the reactor thread to the test.
final class ResultBox: Sendable {
    private let value = Mutex<Result<Void, ReactorError>?>(nil)
    func set(_ result: Result<Void, ReactorError>) { value.withLock { $0 = result } }
    func wait() async throws -> Result<Void, ReactorError> {
        while true {
            if let result = value.withLock({ $0 }) { return result }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
