import Foundation
import Reactor

/// The plain-HTTP admin API (JSON), on the reactor thread. Routes are listed in README.md.
final class SimulatorAdmin: HTTPResponder {
    weak var core: SimulatorCore?

    init(core: SimulatorCore?) { self.core = core }

    private struct CreatePhone: Decodable {
        let phone: String
        let pushName: String?
    }
    private struct Scan: Decodable { let qr: String }
    private struct Code: Decodable { let code: String }
    private struct ArmHandshakeFault: Decodable {
        let kind: String
        let count: Int?
    }
    private struct TakePreKeys: Decodable { let leave: Int }
    private struct FaultCount: Decodable { let count: Int? }
    private struct Presence: Decodable { let available: Bool }
    private struct ChatState: Decodable {
        let to: String
        let state: String
    }
    private struct Picture: Decodable { let url: String? }
    private struct Block: Decodable {
        let contact: String
        let blocked: Bool
    }
    private struct MediaFaultBody: Decodable {
        let kind: String
        let count: Int?
    }
    private struct Fault: Decodable {
        let kind: String
        let ms: Int?
    }

    func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        guard let core else { return sink.send(Self.error(SimulatorError(503, "stopping"))) }
        let parts = request.head.path.split(separator: "/").map(String.init)
        let method = request.head.method
        guard parts.first == "admin" else { return sink.send(Self.error(.notFound("no route \(request.head.path)"))) }
        let route = Array(parts.dropFirst())
        do throws(SimulatorError) {
            switch (method, route.count, route.first) {
            case ("GET", 1, "health"):
                var body = core.health().mapValues { $0 as Any }
                body["status"] = "ok"
                sink.send(Self.json(200, body))
            case ("POST", 1, "handshake-faults"):
                let body = try Self.decode(ArmHandshakeFault.self, request.body)
                guard let fault = HandshakeFault(rawValue: body.kind) else {
                    throw .badRequest("kind must be bad-certificate or bad-noise")
                }
                try core.armHandshakeFault(fault, count: body.count ?? 1)
                sink.send(HTTPResponse(status: 204))
            case ("GET", 1, "media"):
                sink.send(Self.encoded(200, core.mediaHost()))
            case ("POST", 2, "media") where route[1] == "faults":
                let body = try Self.decode(MediaFaultBody.self, request.body)
                guard let fault = MediaFault(rawValue: body.kind) else {
                    throw .badRequest("kind must be corrupt-download, reject-upload, expire-download or lose-media")
                }
                try core.injectMediaFault(fault, count: body.count ?? 1)
                sink.send(HTTPResponse(status: 204))
            case ("GET", 1, "phones"):
                sink.send(Self.encoded(200, core.phones()))
            case ("POST", 1, "phones"):
                let body = try Self.decode(CreatePhone.self, request.body)
                sink.send(Self.encoded(201, try core.createPhone(body.phone, pushName: body.pushName ?? body.phone)))
            case ("GET", 2, "phones"):
                sink.send(Self.encoded(200, try core.phone(route[1])))
            case ("POST", 3, "phones") where route[2] == "scan":
                let body = try Self.decode(Scan.self, request.body)
                core.scan(qr: body.qr, by: route[1]) { sink.send(Self.answer($0)) }
            case ("POST", 3, "phones") where route[2] == "pairing-code":
                let body = try Self.decode(Code.self, request.body)
                core.enterPairingCode(body.code, on: route[1]) { sink.send(Self.answer($0)) }
            case ("PUT", 3, "phones") where route[2] == "presence":
                let body = try Self.decode(Presence.self, request.body)
                try core.setPresence(phone: route[1], available: body.available)
                sink.send(HTTPResponse(status: 204))
            case ("POST", 3, "phones") where route[2] == "chatstate":
                let body = try Self.decode(ChatState.self, request.body)
                try core.sendChatState(from: route[1], to: body.to, state: body.state)
                sink.send(HTTPResponse(status: 204))
            case ("POST", 3, "phones") where route[2] == "groups":
                sink.send(try createGroup(core, phone: route[1], body: request.body))
            case ("POST", 4, "phones") where route[2] == "groups" && route[3] == "join":
                sink.send(try joinGroup(core, phone: route[1], body: request.body))
            case ("GET", 3, "phones") where route[2] == "blocklist":
                sink.send(Self.encoded(200, try core.blocklist(of: route[1])))
            case ("PUT", 3, "phones") where route[2] == "blocklist":
                let body = try Self.decode(Block.self, request.body)
                try core.setBlocked(phone: route[1], contact: body.contact, blocked: body.blocked, except: nil)
                sink.send(HTTPResponse(status: 204))
            case (_, _, "groups"):
                sink.send(try groupRoute(core, method: method, route: route, body: request.body))
            case ("POST", 4, "phones") where route[2] == "messages" && route[3] == "stream":
                sink.send(Self.encoded(202, try core.streamFromPhone(route[1], json: request.body)))
            case ("POST", 3, "phones") where route[2] == "messages":
                sink.send(Self.encoded(201, try core.sendFromPhone(route[1], json: request.body)))
            case ("GET", 3, "phones") where route[2] == "inbox":
                sink.send(Self.encoded(200, try core.inbox(of: route[1])))
            case ("GET", 3, "phones") where route[2] == "chatstates":
                sink.send(Self.encoded(200, try core.chatStates(of: route[1])))
            case ("GET", 3, "phones") where route[2] == "receipts":
                sink.send(Self.encoded(200, try core.receipts(of: route[1])))
            case ("PUT", 3, "phones") where route[2] == "picture":
                try core.setProfilePicture(phone: route[1], url: try Self.decode(Picture.self, request.body).url)
                sink.send(HTTPResponse(status: 204))
            case ("POST", 3, "phones") where route[2] == "app-state":
                try core.writeAppState(phone: route[1], change: try Self.decode(PhoneAppStateChange.self, request.body))
                sink.send(HTTPResponse(status: 204))
            case ("GET", 3, "phones") where route[2] == "app-state":
                sink.send(Self.encoded(200, try core.appStateView(of: route[1])))
            case ("POST", 4, "phones") where route[2] == "app-state" && route[3] == "faults":
                let body = request.body.isEmpty ? nil : try Self.decode(FaultCount.self, request.body)
                try core.corruptAppStatePatches(phone: route[1], count: body?.count ?? 1)
                sink.send(HTTPResponse(status: 204))
            case ("GET", 3, "phones") where route[2] == "signal":
                sink.send(Self.encoded(200, try core.signalKeys(of: route[1])))
            case ("DELETE", 4, "phones") where route[2] == "devices":
                try core.unlink(phone: route[1], device: try Self.device(route[3]))
                sink.send(HTTPResponse(status: 204))
            case ("POST", 5, "phones") where route[2] == "devices" && route[4] == "take-prekeys":
                let body = try Self.decode(TakePreKeys.self, request.body)
                let left = try core.takePreKeys(phone: route[1], device: try Self.device(route[3]), leave: body.leave)
                sink.send(Self.json(200, ["preKeyCount": left]))
            case ("POST", 5, "phones") where route[2] == "devices" && route[4] == "fault":
                let body = try Self.decode(Fault.self, request.body)
                try core.inject(try Self.fault(body), phone: route[1], device: try Self.device(route[3]))
                sink.send(HTTPResponse(status: 204))
            default:
                throw .notFound("no route \(method) \(request.head.path)")
            }
        } catch {
            sink.send(Self.error(error))
        }
    }

    private static func fault(_ body: Fault) throws(SimulatorError) -> SimulatorFault {
        switch body.kind {
        case "drop": return .drop
        case "stall": return .stall
        case "conflict": return .conflict
        case "malformed": return .malformed
        case "oversized": return .oversized
        case "latency":
            guard let ms = body.ms, ms >= 0 else { throw .badRequest("latency needs \"ms\" >= 0") }
            return .latency(milliseconds: ms)
        default: throw .badRequest("kind must be drop, stall, conflict, latency, malformed or oversized")
        }
    }

    private static func device(_ text: String) throws(SimulatorError) -> UInt16 {
        guard let device = UInt16(text) else { throw .badRequest("device must be a number") }
        return device
    }

    static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws(SimulatorError) -> T {
        do { return try JSONDecoder().decode(type, from: Data(body)) } catch {
            throw .badRequest("invalid JSON body for this route")
        }
    }

    private static func answer(_ result: Result<PairingResult, SimulatorError>) -> HTTPResponse {
        switch result {
        case .success(let paired): return encoded(200, paired)
        case .failure(let error): return Self.error(error)
        }
    }

    static func encoded(_ status: Int, _ value: some Encodable) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return response(status, (try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    private static func json(_ status: Int, _ object: [String: Any]) -> HTTPResponse {
        response(status, (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    static func error(_ error: SimulatorError) -> HTTPResponse {
        json(error.status, ["statusCode": error.status, "error": error.message])
    }

    private static func response(_ status: Int, _ body: Data) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("content-type", "application/json")
        return HTTPResponse(status: status, headers: headers, body: Array(body))
    }
}
