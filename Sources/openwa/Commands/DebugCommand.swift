import ArgumentParser
import Foundation
import WAProtocol

/// `openwa debug`: inspect WhatsApp wire data offline.
struct DebugCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug", abstract: "Decode and encode WhatsApp binary nodes for inspection.",
        subcommands: [Decode.self, Encode.self])

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the text form of a binary node given as hex or base64.",
            discussion: """
                The input is a decrypted frame plaintext (a flags byte, then the node; zlib-compressed \
                bodies are inflated) unless --bare says it is the node alone.
                """)

        @Argument(help: "The bytes, as hex (spaces allowed) or base64. '-' reads standard input.")
        var input: String
        @Flag(help: "The input is a bare node with no flags byte.") var bare = false
        @Flag(help: "Indent nested nodes.") var pretty = false

        func run() throws {
            let text = input == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : input
            guard let bytes = WireText.bytes(from: text) else {
                throw ValidationError("the input is neither hex nor base64")
            }
            let node = bare ? try NodeDecoder.decode(bytes) : try NodePlaintext.decode(bytes)
            print(NodeText.render(node, pretty: pretty))
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode the text form of a node (as `debug decode` prints it) to hex.")

        @Argument(help: "The node's text form, e.g. '<iq id=\"1\" type=\"get\" xmlns=\"w:p\"><ping/></iq>'. '-' reads standard input.")
        var text: String
        @Flag(help: "Write the bare node, without the flags byte.") var bare = false
        @Flag(help: "Print base64 instead of hex.") var base64 = false

        func run() throws {
            let source = text == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : text
            let node = try NodeText.parse(source.trimmingCharacters(in: .whitespacesAndNewlines))
            let bytes = bare ? try NodeEncoder.encode(node) : try NodePlaintext.encode(node)
            print(base64 ? Data(bytes).base64EncodedString() : bytes.map { String(format: "%02x", $0) }.joined())
        }
    }
}

/// Bytes from a hex or base64 argument.
enum WireText {
    static func bytes(from text: String) -> [UInt8]? {
        let compact = text.filter { !$0.isWhitespace }
        if compact.count % 2 == 0, compact.allSatisfy(\.isHexDigit) {
            var bytes: [UInt8] = []
            var index = compact.startIndex
            while index < compact.endIndex {
                let next = compact.index(index, offsetBy: 2)
                bytes.append(UInt8(compact[index..<next], radix: 16)!)
                index = next
            }
            return bytes
        }
        return Data(base64Encoded: compact).map { Array($0) }
    }
}
