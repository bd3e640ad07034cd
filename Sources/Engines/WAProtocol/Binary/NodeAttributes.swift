/// An attribute value: a plain string or a typed JID (protocol reference §4.1).
///
/// The wire keeps the two apart (JID tags versus string encodings) and whatsmeow's typed
/// getters refuse a JID sent as a string, so the model keeps them apart too.
package enum AttributeValue: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// A plain string, sent as a token, packed digits or raw UTF-8.
    case string(String)
    /// A typed JID, sent with a JID tag.
    case jid(JID)

    /// String literals are plain strings: `["type": "get"]`.
    package init(stringLiteral value: String) { self = .string(value) }

    /// The string, or the JID's string form.
    package var description: String {
        switch self {
        case .string(let string): return string
        case .jid(let jid): return jid.description
        }
    }
}

/// A node's attributes in wire order. Duplicate keys are kept (the wire allows them); lookups
/// return the first.
package struct NodeAttributes: Sendable, Equatable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    /// One `key=value` pair.
    package struct Element: Sendable, Equatable {
        /// The attribute name.
        package var key: String
        /// The attribute value.
        package var value: AttributeValue

        /// A pair.
        package init(key: String, value: AttributeValue) {
            self.key = key
            self.value = value
        }
    }

    private var elements: [Element]

    /// No attributes.
    package init() { elements = [] }

    /// The given pairs, in order.
    package init(_ elements: [Element]) { self.elements = elements }

    /// Literal order is wire order: `["to": .jid(.whatsAppServer), "type": "get"]`.
    package init(dictionaryLiteral pairs: (String, AttributeValue)...) {
        elements = pairs.map { Element(key: $0.0, value: $0.1) }
    }

    /// Collection conformance: positions are wire order.
    package var startIndex: Int { elements.startIndex }
    /// Collection conformance.
    package var endIndex: Int { elements.endIndex }
    /// The pair at `position` in wire order.
    package subscript(position: Int) -> Element { elements[position] }

    /// The first value for `key`. Setting replaces the first value in place, appends a new key
    /// at the end, and `nil` removes every value for the key.
    package subscript(key: String) -> AttributeValue? {
        get { elements.first { $0.key == key }?.value }
        set {
            guard let newValue else {
                elements.removeAll { $0.key == key }
                return
            }
            if let index = elements.firstIndex(where: { $0.key == key }) {
                elements[index].value = newValue
            } else {
                elements.append(Element(key: key, value: newValue))
            }
        }
    }

    /// Adds a pair at the end, even if the key exists.
    package mutating func append(_ key: String, _ value: AttributeValue) {
        elements.append(Element(key: key, value: value))
    }

    /// The value for `key` as a string (a JID in its string form).
    package func string(_ key: String) -> String? {
        self[key]?.description
    }

    /// The value for `key` if it is a typed JID. A plain string is not parsed: like whatsmeow's
    /// `GetJID`, a peer that sends a JID as a string is treated as not sending one.
    package func jid(_ key: String) -> JID? {
        if case .jid(let jid) = self[key] { return jid }
        return nil
    }
}
