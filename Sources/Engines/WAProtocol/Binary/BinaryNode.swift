/// One stanza of WhatsApp's binary XML (protocol reference §4.1): a tag, ordered attributes
/// and optional content.
///
/// Attribute order is kept exactly as given or decoded, so encoding is deterministic and
/// byte-exact test vectors are possible; the protocol itself does not care about order.
package struct BinaryNode: Sendable, Equatable, CustomStringConvertible {
    /// What a node carries besides its attributes.
    package enum Content: Sendable, Equatable {
        /// No content: the node's list size is odd on the wire.
        case none
        /// Child nodes. An empty list is distinct from `.none` (it is written as `00`).
        case nodes([BinaryNode])
        /// Raw bytes (BINARY_8/20/32 on the wire).
        case bytes([UInt8])
        /// A string sent as a token or packed digits. A string that needs raw encoding goes out
        /// as BINARY bytes and therefore decodes as `.bytes`, the way whatsmeow reads it.
        case string(String)
        /// A JID as content (rare; Baileys can produce it).
        case jid(JID)
    }

    /// The element name, never empty.
    package var tag: String
    /// The attributes, in wire order.
    package var attributes: NodeAttributes
    /// Children, bytes, a string, a JID, or nothing.
    package var content: Content

    /// A node with any content (none by default).
    package init(_ tag: String, _ attributes: NodeAttributes = [:], _ content: Content = .none) {
        self.tag = tag
        self.attributes = attributes
        self.content = content
    }

    /// A node whose content is `children`.
    package init(_ tag: String, _ attributes: NodeAttributes = [:], children: [BinaryNode]) {
        self.init(tag, attributes, .nodes(children))
    }

    /// A node whose content is raw `bytes`.
    package init(_ tag: String, _ attributes: NodeAttributes = [:], bytes: [UInt8]) {
        self.init(tag, attributes, .bytes(bytes))
    }

    // MARK: - Navigation

    /// The child nodes, or an empty array when the content is not a list.
    package var children: [BinaryNode] {
        if case .nodes(let children) = content { return children }
        return []
    }

    /// The first child with `tag`.
    package func child(_ tag: String) -> BinaryNode? {
        children.first { $0.tag == tag }
    }

    /// Every child with `tag`, in order.
    package func children(_ tag: String) -> [BinaryNode] {
        children.filter { $0.tag == tag }
    }

    /// The content as bytes: raw bytes as they are, a string as its UTF-8.
    package var contentBytes: [UInt8]? {
        switch content {
        case .bytes(let bytes): return bytes
        case .string(let string): return Array(string.utf8)
        case .none, .nodes, .jid: return nil
        }
    }

    /// The XML-like text form of `NodeText.render(_:)`.
    package var description: String { NodeText.render(self) }
}
