/// An ordered list of HTTP header fields.
///
/// Order and duplicates are kept exactly as received (or added) because some fields are
/// repeatable lists and because the response serializer writes them back in order. Lookups are
/// ASCII case-insensitive, as RFC 9110 §5.1 requires for field names. A linear scan is faster
/// than any hashing for the dozen-or-so fields a typical message carries.
package struct HTTPHeaders: Sendable, Sequence, Equatable {
    /// One header field: its name as written and its value with surrounding whitespace removed.
    package typealias Field = (name: String, value: String)

    private var fields: [Field]

    /// An empty header list.
    package init() {
        fields = []
    }

    /// A header list holding `pairs` in order.
    package init(_ pairs: [(String, String)]) {
        fields = pairs.map { (name: $0.0, value: $0.1) }
    }

    /// Number of fields, counting repeated names separately.
    package var count: Int { fields.count }

    /// Whether there are no fields at all.
    package var isEmpty: Bool { fields.isEmpty }

    /// The value of the first field called `name` (case-insensitive), or nil.
    package subscript(_ name: String) -> String? {
        for field in fields where HTTPSyntax.namesEqual(field.name, name) {
            return field.value
        }
        return nil
    }

    /// The values of every field called `name` (case-insensitive), in order.
    package func values(_ name: String) -> [String] {
        fields.filter { HTTPSyntax.namesEqual($0.name, name) }.map(\.value)
    }

    /// Whether at least one field is called `name` (case-insensitive).
    package func contains(_ name: String) -> Bool {
        fields.contains { HTTPSyntax.namesEqual($0.name, name) }
    }

    /// Appends a field, keeping any existing fields of the same name.
    package mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Sets the single value of `name`: the first existing field keeps its position and gets the
    /// new value, later duplicates are dropped; appends when the name is absent.
    package mutating func replaceOrAdd(_ name: String, _ value: String) {
        guard let first = fields.firstIndex(where: { HTTPSyntax.namesEqual($0.name, name) }) else {
            fields.append((name: name, value: value))
            return
        }
        fields[first].value = value
        var index = fields.count - 1
        while index > first {
            if HTTPSyntax.namesEqual(fields[index].name, name) { fields.remove(at: index) }
            index -= 1
        }
    }

    /// Removes every field called `name` (case-insensitive).
    package mutating func remove(_ name: String) {
        fields.removeAll { HTTPSyntax.namesEqual($0.name, name) }
    }

    /// Reserves room for `capacity` fields; the parser calls this once per head.
    package mutating func reserveCapacity(_ capacity: Int) {
        fields.reserveCapacity(capacity)
    }

    package func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    package var underestimatedCount: Int { fields.count }

    /// Exact, order- and case-sensitive equality; meant for tests and change detection.
    package static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
