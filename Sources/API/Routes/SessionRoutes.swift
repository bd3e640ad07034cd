import Engines
import Foundation
import Reactor

/// `/api/sessions*` (reference section 2.3).
package enum SessionRoutes {
    package static func routes(sessions: SessionManager) -> [Route] {
        let viewer = RouteAccess.key(minimum: .viewer, sessionParameter: "id")
        let operatorScoped = RouteAccess.key(minimum: .operator, sessionParameter: "id")
        return [
            Route(
                "GET", "/api/sessions", access: .key(minimum: .viewer),
                handler: .task { context in
                    let page = try Pagination(context.query, defaultLimit: 1_000, maxLimit: 1_000)
                    let names = context.query.filter { $0.0 == "name" }.map(\.1)
                    if names.count > 1 || names.first == "" { throw APIError.badRequest("name must be given once and not be empty") }
                    let allowed = context.apiKey?.allowedSessions.flatMap { $0.isEmpty ? nil : $0 }
                    let list = try await sessions.list(limit: page.limit, offset: page.offset, name: names.first, allowed: allowed)
                    return .json(.array(list.map(SessionDTO.json)))
                }),
            Route(
                "POST", "/api/sessions", access: .key(minimum: .operator, unscoped: true),
                handler: .task { context in
                    let input = try SessionDTO.create(from: try context.jsonObject(allowing: SessionDTO.createFields))
                    if input.proxyUrl != nil, context.apiKey?.role != .admin {
                        throw APIError.forbidden("Insufficient permissions. Required: admin")
                    }
                    let session = try await sessions.create(name: input.name, config: input.config, proxyUrl: input.proxyUrl)
                    return .json(SessionDTO.json(session), status: 201)
                }),
            Route(
                "GET", "/api/sessions/stats/overview", access: .key(minimum: .viewer),
                handler: .task { context in
                    let allowed = context.apiKey?.allowedSessions.flatMap { $0.isEmpty ? nil : $0 }
                    let counts = try await sessions.statistics(allowed: allowed)
                    let total = counts.values.reduce(0, +)
                    let byStatus = JSONValue.object(SessionStatus.allCases.map { ($0.rawValue, .number(Double(counts[$0] ?? 0))) })
                    let active = SessionStatus.allCases.filter(\.isActive).reduce(0) { $0 + (counts[$1] ?? 0) }
                    return .json([
                        "total": .number(Double(total)), "active": .number(Double(active)),
                        "ready": .number(Double(counts[.ready] ?? 0)),
                        "disconnected": .number(Double(counts[.disconnected] ?? 0)), "byStatus": byStatus,
                        "memoryUsage": ["rss": .number(Double(ProcessMemory.residentMegabytes()))],
                    ])
                }),
            Route("GET", "/api/sessions/:id", access: viewer, handler: .task { context in
                .json(SessionDTO.json(try await sessions.get(id: context.parameter("id"))))
            }),
            Route("DELETE", "/api/sessions/:id", access: operatorScoped, handler: .task { context in
                try await sessions.delete(id: context.parameter("id"))
                return .noContent
            }),
            Route("POST", "/api/sessions/:id/start", access: operatorScoped, handler: .task { context in
                .json(SessionDTO.json(try await sessions.start(id: context.parameter("id"))))
            }),
            Route("POST", "/api/sessions/:id/stop", access: operatorScoped, handler: .task { context in
                .json(SessionDTO.json(try await sessions.stop(id: context.parameter("id"))))
            }),
            Route("POST", "/api/sessions/:id/restart", access: operatorScoped, handler: .task { context in
                .json(SessionDTO.json(try await sessions.restart(id: context.parameter("id"))))
            }),
            Route("POST", "/api/sessions/:id/logout", access: operatorScoped, handler: .task { context in
                .json(SessionDTO.json(try await sessions.logout(id: context.parameter("id"))))
            }),
            Route("GET", "/api/sessions/:id/qr", access: operatorScoped, handler: .task { context in
                let (qr, status) = try await sessions.qr(id: context.parameter("id"))
                return try QRResponse.make(qr: qr, status: status, format: context.query.first { $0.0 == "format" }?.1)
            }),
            Route("POST", "/api/sessions/:id/pairing-code", access: operatorScoped, handler: .task { context in
                let body = try context.jsonObject(allowing: ["phoneNumber"])
                guard let phone = body["phoneNumber"]?.stringValue, (6...15).contains(phone.count), phone.allSatisfy(\.isASCII),
                    phone.allSatisfy(\.isNumber)
                else { throw APIError.validation(["phoneNumber must match /^[0-9]{6,15}$/ regular expression"]) }
                let (code, status) = try await sessions.pairingCode(id: context.parameter("id"), phoneNumber: phone)
                return .json(["pairingCode": .string(code), "status": .string(status.rawValue)], status: 201)
            }),
            Route("GET", "/api/sessions/:id/config", access: viewer, handler: .task { context in
                .json(SessionDTO.configJSON(try await sessions.get(id: context.parameter("id")).config))
            }),
            Route("PATCH", "/api/sessions/:id/config", access: operatorScoped, handler: .task { context in
                let body = try context.jsonObject(allowing: SessionDTO.configFields)
                var errors: [String] = []
                var probe = SessionConfig()
                SessionDTO.apply(body, to: &probe, errors: &errors, allowNull: true)
                if !errors.isEmpty { throw APIError.validation(errors) }
                let updated = try await sessions.updateConfig(id: context.parameter("id")) { config in
                    var ignored: [String] = []
                    SessionDTO.apply(body, to: &config, errors: &ignored, allowNull: true)
                }
                return .json(SessionDTO.configJSON(updated))
            }),
        ]
    }
}

/// The QR in the form asked for: OpenWA's JSON with a PNG data URL (default), the raw linking
/// string (`?format=raw`), or the PNG itself (`?format=png`).
enum QRResponse {
    static func make(qr: String, status: SessionStatus, format: String?) throws(APIError) -> APIResponse {
        switch format ?? "json" {
        case "json":
            return .json(["qrCode": .string(QRImage.dataURL(qr)), "status": .string(status.rawValue)])
        case "raw":
            return .json(["qr": .string(qr), "status": .string(status.rawValue)])
        case "png":
            guard let code = try? QRCode.encode(qr) else { throw APIError(status: 500, message: "QR code could not be rendered") }
            return .bytes(PNGWriter.png(for: code), contentType: "image/png")
        default:
            throw APIError.badRequest("format must be one of json, raw, png")
        }
    }
}

/// `limit`/`offset` query parameters with OpenWA's clamping.
struct Pagination {
    var limit: Int
    var offset: Int

    init(_ query: [(String, String)], defaultLimit: Int, maxLimit: Int) throws(APIError) {
        let limitText = query.first { $0.0 == "limit" }?.1
        let offsetText = query.first { $0.0 == "offset" }?.1
        limit = limitText.flatMap(Int.init).map { min(max($0, 1), maxLimit) } ?? defaultLimit
        offset = offsetText.flatMap(Int.init).map { max($0, 0) } ?? 0
    }
}
