/// Carries reactor-confined values into a task that runs on the reactor's executor.
struct ReactorBound<Value>: @unchecked Sendable {
    // Created on the reactor thread and dereferenced only by tasks whose executor preference
    // is the reactor handle, or by work posted to it: always the reactor thread.
    let value: Value
    init(_ value: Value) { self.value = value }
}
