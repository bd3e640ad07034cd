import Foundation
import Persistence

/// What a create or update asks of a template. On update, a nil name or body keeps the stored
/// one; `header` and `footer` are kept (`.keep`), replaced or cleared (`null` in the request).
package struct TemplateDraft: Sendable {
    package enum Part: Sendable, Equatable {
        case keep
        case set(String)
        case clear
    }

    package var name: String?
    package var body: String?
    package var header: Part = .keep
    package var footer: Part = .keep

    package init() {}
}

/// A stored template as the API shows it.
package struct MessageTemplate: Sendable, Equatable {
    package var id: String
    package var sessionId: String
    package var name: String
    package var body: String
    package var header: String?
    package var footer: String?
    package var createdAt: Date
    package var updatedAt: Date

    init(_ record: TemplateRecord) {
        id = record.id
        sessionId = record.sessionId
        name = record.name
        body = record.body
        header = record.header
        footer = record.footer
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }
}

/// OpenWA's message templates (reference 2.8) and their rendering for `send-template`: header,
/// body and footer joined by blank lines, each `{{name}}` replaced by the caller's value. A
/// placeholder without a value stays as written, so a missing variable shows in the message
/// instead of silently vanishing from it.
package final class MessageTemplates: Sendable {
    private let store: SQLTemplateStore
    /// `TEMPLATE_RENDER_MAX_CHARS`: longest rendered text a send may carry.
    package let maxRenderedCharacters: Int

    package init(store: SQLTemplateStore, maxRenderedCharacters: Int = 65_536) {
        self.store = store
        self.maxRenderedCharacters = maxRenderedCharacters
    }

    /// Removes a deleted session's templates.
    package func follow(_ bus: EventBus) {
        bus.subscribe { [store] event in
            guard event.name == "session.deleted" else { return }
            let session = event.sessionID
            Task { try? await store.deleteAll(sessionId: session) }
        }
    }

    package func create(sessionId: String, _ draft: TemplateDraft) async throws -> MessageTemplate {
        let stamp = Date()
        var record = TemplateRecord(
            id: UUID().uuidString.lowercased(), sessionId: sessionId, name: draft.name ?? "", body: draft.body ?? "",
            header: nil, footer: nil, createdAt: stamp, updatedAt: stamp)
        Self.apply(draft, to: &record)
        try await guarded(name: record.name) { try await store.insert(record) }
        return MessageTemplate(record)
    }

    package func list(sessionId: String) async throws -> [MessageTemplate] {
        try await guarded { try await store.list(sessionId: sessionId) }.map(MessageTemplate.init)
    }

    package func get(sessionId: String, id: String) async throws -> MessageTemplate {
        MessageTemplate(try await record(sessionId: sessionId, id: id))
    }

    private func record(sessionId: String, id: String) async throws -> TemplateRecord {
        guard let record = try await guarded(operation: { try await store.find(sessionId: sessionId, id: id) }) else {
            throw Self.missing(id: id)
        }
        return record
    }

    package func update(sessionId: String, id: String, _ draft: TemplateDraft) async throws -> MessageTemplate {
        var record = try await record(sessionId: sessionId, id: id)
        Self.apply(draft, to: &record)
        // Strictly later than the stored stamp, so two quick updates still order.
        record.updatedAt = max(Date(), record.updatedAt.addingTimeInterval(0.001))
        let updated = try await guarded(name: record.name) { try await store.update(record) }
        guard updated else { throw Self.missing(id: id) }
        return MessageTemplate(record)
    }

    package func delete(sessionId: String, id: String) async throws {
        guard try await guarded(operation: { try await store.delete(sessionId: sessionId, id: id) }) else { throw Self.missing(id: id) }
    }

    /// The template a send names by id or by name (404 when neither finds one).
    package func resolve(sessionId: String, id: String?, name: String?) async throws -> MessageTemplate {
        if let id { return try await get(sessionId: sessionId, id: id) }
        guard let name, let record = try await guarded(operation: { try await store.find(sessionId: sessionId, name: name) }) else {
            throw EngineError.notFound("Template with name '\(name ?? "")' not found")
        }
        return MessageTemplate(record)
    }

    /// The text a send of `template` carries; over `maxRenderedCharacters` is refused (400).
    package func render(_ template: MessageTemplate, variables: [String: String]) throws -> String {
        let parts = [template.header, template.body, template.footer].compactMap { $0 }.filter { !$0.isEmpty }
        let text = Self.substitute(parts.joined(separator: "\n\n"), variables)
        guard text.count <= maxRenderedCharacters else {
            throw EngineError.invalid("Rendered template exceeds \(maxRenderedCharacters) characters")
        }
        return text
    }

    /// Replaces each `{{name}}` (spaces inside the braces allowed) whose name has a value.
    package static func substitute(_ text: String, _ variables: [String: String]) -> String {
        guard !variables.isEmpty, text.contains("{{") else { return text }
        var output = ""
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                rest = rest[open.lowerBound...]
                break
            }
            let name = afterOpen[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if let value = variables[name] {
                output += value
            } else {
                output += rest[open.lowerBound..<close.upperBound]
            }
            rest = afterOpen[close.upperBound...]
        }
        output += rest
        return output
    }

    private static func apply(_ draft: TemplateDraft, to record: inout TemplateRecord) {
        if let name = draft.name { record.name = name }
        if let body = draft.body { record.body = body }
        switch draft.header {
        case .keep: break
        case .set(let text): record.header = text
        case .clear: record.header = nil
        }
        switch draft.footer {
        case .keep: break
        case .set(let text): record.footer = text
        case .clear: record.footer = nil
        }
    }

    private static func missing(id: String) -> EngineError { .notFound("Template with id '\(id)' not found") }

    /// Store failures as domain errors: a taken name is 409, an unreachable database 503.
    private func guarded<T>(name: String? = nil, operation: () async throws -> T) async throws -> T {
        do {
            return try await operation()
        } catch let error as PersistenceError {
            if error.isConstraintViolation, let name { throw EngineError.conflict("Template with name '\(name)' already exists") }
            if error.isUnavailable { throw EngineError.unavailable("Data database is unavailable") }
            throw error
        }
    }
}
