import Engines
import Foundation
import Reactor

/// OpenWA's SendBulkDto: every item checked before the batch is accepted, all errors of a
/// body reported together (`messages.<n>.` before an item's field). Base64 media is decoded
/// here, so an oversized or broken payload is a 413 or 400 now, not a failure later.
enum BulkDTO {
    static let fields: Set<String> = ["batchId", "messages", "options"]
    static let itemFields: Set<String> = ["chatId", "type", "content", "variables"]
    static let contentFields: Set<String> = ["text", "image", "video", "audio", "document", "caption", "mentions"]
    static let mediaFields: Set<String> = ["url", "base64", "mimetype", "filename", "ptt"]
    static let optionFields: Set<String> = ["delayBetweenMessages", "randomizeDelay", "stopOnError"]

    struct Request {
        var batchId: String?
        var items: [BulkItem]
        var options: BulkOptions
    }

    static func request(_ body: JSONValue, maxMediaBytes: Int) throws -> Request {
        var errors: [String] = []
        var batchId: String?
        if let value = body["batchId"], value != .null {
            if let text = value.stringValue, (1...128).contains(text.utf8.count),
                text.utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
            {
                batchId = text
            } else {
                errors.append("batchId must be 1 to 128 letters, digits, '_', '-' or '.'")
            }
        }
        var items: [BulkItem] = []
        if let list = body["messages"]?.arrayValue {
            if list.isEmpty { errors.append("messages must contain at least 1 elements") }
            if list.count > 100 { errors.append("messages must contain no more than 100 elements") }
            for (index, value) in list.prefix(100).enumerated() {
                var itemErrors: [String] = []
                if let item = try self.item(value, maxMediaBytes: maxMediaBytes, errors: &itemErrors) { items.append(item) }
                errors += itemErrors.map { "messages.\(index).\($0)" }
            }
        } else {
            errors.append("messages must be an array")
        }
        let options = self.options(body["options"], errors: &errors)
        if !errors.isEmpty { throw APIError.validation(errors) }
        return Request(batchId: batchId, items: items, options: options)
    }

    private static func item(_ value: JSONValue, maxMediaBytes: Int, errors: inout [String]) throws -> BulkItem? {
        guard case .object(let members) = value else {
            errors.append("must be an object")
            return nil
        }
        errors += members.map(\.0).filter { !itemFields.contains($0) }.map { "property \($0) should not exist" }
        var dto = MessageSendDTO(value)
        let chat = dto.required("chatId")
        let typeName = dto.required("type")
        errors += dto.errors
        let type = BulkItem.Kind(rawValue: typeName)
        if !typeName.isEmpty, type == nil {
            errors.append("type must be one of the following values: \(BulkItem.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let variables = TemplateRoutes.variables(value["variables"], field: "variables", errors: &errors)
        guard case .object(let contentMembers)? = value["content"] else {
            errors.append("content must be an object")
            return nil
        }
        errors += contentMembers.map(\.0).filter { !contentFields.contains($0) }.map { "property content.\($0) should not exist" }
        var content = MessageSendDTO(value["content"] ?? .null)
        let caption = content.optional("caption", max: 1_024)
        let mentions = content.mentions()
        var item = BulkItem(
            chatId: MessageRoutes.normalizedChat(chat), type: type ?? .text, caption: caption, mentions: mentions.isEmpty ? nil : mentions,
            variables: variables.isEmpty ? nil : variables)
        if type == .text {
            item.text = content.required("text", max: 4_096)
        } else if let type {
            item.media = try media(content.body[type.rawValue], field: type.rawValue, maxMediaBytes: maxMediaBytes, errors: &errors)
        }
        errors += content.errors.map { "content.\($0)" }
        return errors.isEmpty ? item : nil
    }

    /// `content.<type> {url? | base64?, mimetype?, filename?, ptt?}`; base64 is checked and kept bare.
    private static func media(_ value: JSONValue?, field: String, maxMediaBytes: Int, errors: inout [String]) throws -> BulkItem.Media? {
        guard case .object(let members)? = value else {
            errors.append("content.\(field) must be an object")
            return nil
        }
        errors += members.map(\.0).filter { !mediaFields.contains($0) }.map { "property content.\(field).\($0) should not exist" }
        var dto = MessageSendDTO(value ?? .null)
        let source = dto.mediaSource()
        var media = BulkItem.Media(mimetype: dto.optional("mimetype", max: 255), filename: dto.optional("filename", max: 255))
        let voice = field == "audio" && dto.flag("ptt") == true
        if voice { media.ptt = true }
        errors += dto.errors.map { "content.\(field).\($0)" }
        switch source {
        case .url(let url)?:
            media.url = url
        case .base64(let text)?:
            let decoded = try MessageSendDTO.decode(text, maxBytes: maxMediaBytes)
            media.mimetype = media.mimetype ?? decoded.mimetype ?? (voice ? MessageSendDTO.voiceMimetype : nil)
            if media.mimetype == nil { errors.append("content.\(field).mimetype should not be empty when base64 is given") }
            media.base64 = Data(decoded.bytes).base64EncodedString()
        default:
            break
        }
        return media
    }

    private static func options(_ value: JSONValue?, errors: inout [String]) -> BulkOptions {
        var options = BulkOptions()
        guard let value, value != .null else { return options }
        guard case .object(let members) = value else {
            errors.append("options must be an object")
            return options
        }
        errors += members.map(\.0).filter { !optionFields.contains($0) }.map { "property options.\($0) should not exist" }
        if let delay = value["delayBetweenMessages"], delay != .null {
            if let milliseconds = delay.intValue, (1_000...60_000).contains(milliseconds) {
                options.delayBetweenMessages = milliseconds
            } else {
                errors.append("options.delayBetweenMessages must be an integer from 1000 to 60000")
            }
        }
        var flags = MessageSendDTO(value)
        if let randomize = flags.flag("randomizeDelay") { options.randomizeDelay = randomize }
        if let stop = flags.flag("stopOnError") { options.stopOnError = stop }
        errors += flags.errors.map { "options.\($0)" }
        return options
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
