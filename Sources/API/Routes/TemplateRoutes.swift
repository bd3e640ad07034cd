import Engines
import Foundation
import Reactor

/// `/api/sessions/:sessionId/templates*` (reference 2.8, operator keys) and
/// `POST /api/sessions/:id/messages/send-template` (reference 2.5): the named template rendered
/// with the caller's `vars` and sent as a text message, like send-text.
package enum TemplateRoutes {
    static let fields: Set<String> = ["name", "body", "header", "footer"]
    static let sendFields: Set<String> = ["chatId", "templateId", "templateName", "vars", "mentions", "linkPreview"]

    package static func routes(
        templates: MessageTemplates, sessions: SessionManager, previews: LinkPreviewFetcher? = nil, idempotency: SendIdempotency? = nil,
        typing: TypingSimulation = TypingSimulation(enabled: false)
    ) -> [Route] {
        let scoped = RouteAccess.key(minimum: .operator, sessionParameter: "sessionId")
        @Sendable func session(_ context: APIContext) async throws -> String {
            try await context.existingSession("sessionId", in: sessions)
        }
        return [
            Route("POST", "/api/sessions/:sessionId/templates", access: scoped, handler: .task { context in
                let id = try await session(context)
                let draft = try draft(try context.jsonObject(allowing: fields), creating: true)
                return .json(json(try await templates.create(sessionId: id, draft)), status: 201)
            }),
            Route("GET", "/api/sessions/:sessionId/templates", access: scoped, handler: .task { context in
                .json(.array(try await templates.list(sessionId: try await session(context)).map(json)))
            }),
            Route("GET", "/api/sessions/:sessionId/templates/:templateId", access: scoped, handler: .task { context in
                .json(json(try await templates.get(sessionId: try await session(context), id: context.parameter("templateId"))))
            }),
            Route("PUT", "/api/sessions/:sessionId/templates/:templateId", access: scoped, handler: .task { context in
                let id = try await session(context)
                let draft = try draft(try context.jsonObject(allowing: fields), creating: false)
                return .json(json(try await templates.update(sessionId: id, id: context.parameter("templateId"), draft)))
            }),
            Route("DELETE", "/api/sessions/:sessionId/templates/:templateId", access: scoped, handler: .task { context in
                try await templates.delete(sessionId: try await session(context), id: context.parameter("templateId"))
                return .noContent
            }),
            Route(
                "POST", "/api/sessions/:id/messages/send-template", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    try await IdempotentSend.run(context, idempotency: idempotency, route: "send-template") {
                        try await sendTemplate(context, templates: templates, sessions: sessions, previews: previews, typing: typing)
                    }
                }),
        ]
    }

    private static func sendTemplate(
        _ context: APIContext, templates: MessageTemplates, sessions: SessionManager, previews: LinkPreviewFetcher?,
        typing: TypingSimulation
    ) async throws -> APIResponse {
        var dto = MessageSendDTO(try context.jsonObject(allowing: sendFields))
        let chat = dto.required("chatId")
        let templateID = dto.optional("templateId")
        let templateName = dto.optional("templateName", max: 100)
        let mentions = dto.mentions()
        let wantsPreview = dto.flag("linkPreview") ?? false
        var errors = dto.errors
        if templateID == nil, templateName == nil { errors.append("templateId or templateName must be given") }
        let variables = variables(dto.body["vars"], field: "vars", errors: &errors)
        if !errors.isEmpty { throw APIError.validation(errors) }
        let sessionID = try await context.existingSession(in: sessions)
        let template = try await templates.resolve(sessionId: sessionID, id: templateID, name: templateName)
        let text = try templates.render(template, variables: variables)
        var message = OutgoingMessage(chatID: MessageRoutes.normalizedChat(chat), content: .text(text), mentions: mentions)
        message.linkPreview = try await MessageRoutes.linkPreview(
            for: text, wanted: wantsPreview, custom: nil, previews: previews, sessions: sessions)
        await typing.type(text, chatID: message.chatID, sessionID: sessionID, sessions: sessions)
        return try await MessageSendRoutes.send(message, context: context, sessions: sessions)
    }

    /// `vars`: an object of strings, numbers or booleans (written into the text as they read).
    static func variables(_ value: JSONValue?, field: String, errors: inout [String]) -> [String: String] {
        guard let value, value != .null else { return [:] }
        guard case .object(let members) = value else {
            errors.append("\(field) must be an object")
            return [:]
        }
        var variables: [String: String] = [:]
        for (name, member) in members {
            switch member {
            case .string(let text): variables[name] = text
            case .bool(let flag): variables[name] = flag ? "true" : "false"
            case .number(let number):
                variables[name] = number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            default: errors.append("\(field).\(name) must be a string, number or boolean")
            }
        }
        return variables
    }

    /// CreateTemplateDto / UpdateTemplateDto: on update every field is optional, and `header` or
    /// `footer` given as null clears it.
    static func draft(_ body: JSONValue, creating: Bool) throws(APIError) -> TemplateDraft {
        var dto = MessageSendDTO(body)
        var draft = TemplateDraft()
        if creating || body["name"] != nil { draft.name = dto.required("name", max: 100) }
        if creating || body["body"] != nil { draft.body = dto.required("body", max: 4_096) }
        for (field, keyPath) in [("header", \TemplateDraft.header), ("footer", \TemplateDraft.footer)] {
            guard let value = body[field] else { continue }
            if value == .null {
                draft[keyPath: keyPath] = .clear
            } else if let text = dto.optional(field, max: 1_024) {
                draft[keyPath: keyPath] = text.isEmpty ? .clear : .set(text)
            }
        }
        try dto.validate()
        return draft
    }

    /// TemplateResponseDto.
    static func json(_ record: MessageTemplate) -> JSONValue {
        [
            "id": .string(record.id), "sessionId": .string(record.sessionId), "name": .string(record.name),
            "body": .string(record.body), "header": record.header.map(JSONValue.string) ?? .null,
            "footer": record.footer.map(JSONValue.string) ?? .null, "createdAt": ISODate.json(record.createdAt),
            "updatedAt": ISODate.json(record.updatedAt),
        ]
    }
}
