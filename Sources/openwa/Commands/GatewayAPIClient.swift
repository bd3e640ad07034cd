import Foundation
import Logging
import Reactor

/// `http://host:port` of a running gateway, as the command-line clients take it.
struct GatewayEndpoint {
    let host: String
    let port: Int

    init?(_ text: String) {
        guard text.hasPrefix("http://") else { return nil }
        let authority = text.dropFirst("http://".count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        let parts = authority.split(separator: ":")
        guard parts.count == 2, !parts[0].isEmpty, let number = Int(parts[1]), (1...65_535).contains(number) else { return nil }
        host = parts[0] == "localhost" ? "127.0.0.1" : String(parts[0])
        port = number
    }
}

/// A small REST client for the command line: our HTTP client on a reactor thread of its own.
final class GatewayAPIClient: Sendable {
    private let handle: ReactorHandle
    private let http: SharedHTTPClient
    private let endpoint: GatewayEndpoint
    private let key: String

    private init(handle: ReactorHandle, http: SharedHTTPClient, endpoint: GatewayEndpoint, key: String) {
        self.handle = handle
        self.http = http
        self.endpoint = endpoint
        self.key = key
    }

    static func connect(endpoint: GatewayEndpoint, key: String) async throws -> GatewayAPIClient {
        let handle = try ReactorThread.start(name: "openwa-cli", workers: WorkerPool(size: 1), logger: .init(label: "openwa.cli"))
        let http = try await handle.submit { reactor in SharedHTTPClient(reactor: reactor) }
        return GatewayAPIClient(handle: handle, http: http, endpoint: endpoint, key: key)
    }

    /// Sends a request and returns the JSON body; a non-2xx answer throws with OpenWA's message.
    func json(_ method: String, _ target: String, body: String? = nil) async throws -> JSONValue {
        var headers = HTTPHeaders()
        headers.add("X-API-Key", key)
        headers.add("Accept", "application/json")
        if body != nil { headers.add("Content-Type", "application/json") }
        let response = try await http.execute(
            HTTPClientRequest(
                method: method, host: endpoint.host, port: endpoint.port, target: target, headers: headers,
                body: Array((body ?? "").utf8)),
            timeoutMilliseconds: 10_000)
        let value = (try? JSONParser.parse(response.body)) ?? .null
        guard (200..<300).contains(response.status) else {
            let message = value["message"].map { $0.stringValue ?? JSONWriter.string($0) } ?? "HTTP \(response.status)"
            throw GatewayAPIClientError(status: response.status, message: message)
        }
        return value
    }

    /// A session id from an id or a name.
    func resolveSession(_ idOrName: String) async throws -> String {
        do {
            return try await json("GET", "/api/sessions/\(idOrName)")["id"]?.stringValue ?? idOrName
        } catch let error as GatewayAPIClientError where error.status == 404 || error.status == 400 {
            let sessions = try await json("GET", "/api/sessions?limit=1000")
            for session in sessions.arrayValue ?? [] where session["name"]?.stringValue == idOrName {
                if let id = session["id"]?.stringValue { return id }
            }
            throw GatewayAPIClientError(status: 404, message: "no session with id or name '\(idOrName)'")
        }
    }

    func close() {
        http.close()
        handle.stop()
    }
}

struct GatewayAPIClientError: Error, CustomStringConvertible {
    let status: Int
    let message: String
    var description: String { "\(message) (HTTP \(status))" }
}
