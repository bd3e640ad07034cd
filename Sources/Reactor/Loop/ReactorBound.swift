/// Carries a reactor-confined value through `Sendable` code; it can be read only on the reactor
/// thread (checked at run time).
package final class ReactorBound<Value>: @unchecked Sendable {
    // `_value` is written once in init and read only on the reactor thread (precondition
    // below), so every access happens on one thread.
    private let _value: Value
    private let handle: ReactorHandle

    package init(handle: ReactorHandle, _ value: Value) {
        self.handle = handle
        self._value = value
    }

    package var value: Value {
        handle.preconditionInReactorThread()
        return _value
    }
}
