import Synchronization

extension ReactorHandle {
    /// Runs `operation` and returns its result, or nil when `milliseconds` pass first on the
    /// reactor's clock (so tests drive it with a manual clock). The operation is cancelled
    /// when the deadline wins; it may still finish in the background, and its result is dropped.
    package func withDeadline<T: Sendable>(
        milliseconds: Int, _ operation: @escaping @Sendable () async throws -> T
    ) async -> Result<T, any Error>? {
        let race = Race<Result<T, any Error>?>()
        return await withCheckedContinuation { continuation in
            race.setContinuation(continuation)
            let worker = Task(executorPreference: self) {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                race.finish(result)
            }
            let armed = post { reactor in
                let timer = reactor.schedule(afterMilliseconds: milliseconds) {
                    race.finish(nil)
                    worker.cancel()
                }
                race.onFinish {
                    // The timer must go as soon as the operation wins, or a clean-shutdown check
                    // would find it; cancelling is a reactor-thread operation.
                    self.post { reactor in reactor.cancel(timer) }
                }
            }
            if !armed { race.finish(nil) }
        }
    }
}

/// First-of-two completion: whichever of the operation and the timer finishes first resumes
/// the waiter; the other is ignored.
private final class Race<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, Never>?
        var result: Value?
        var done = false
        var finishHooks: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    func setContinuation(_ continuation: CheckedContinuation<Value, Never>) {
        let ready = state.withLock { state -> Value? in
            if state.done, let result = state.result {
                state.result = nil
                return result
            }
            state.continuation = continuation
            return nil
        }
        if let ready { continuation.resume(returning: ready) }
    }

    func onFinish(_ hook: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.done { return true }
            state.finishHooks.append(hook)
            return false
        }
        if runNow { hook() }
    }

    func finish(_ value: Value) {
        let (continuation, hooks) = state.withLock { state -> (CheckedContinuation<Value, Never>?, [@Sendable () -> Void]) in
            guard !state.done else { return (nil, []) }
            state.done = true
            let hooks = state.finishHooks
            state.finishHooks = []
            guard let continuation = state.continuation else {
                state.result = value
                return (nil, hooks)
            }
            state.continuation = nil
            return (continuation, hooks)
        }
        continuation?.resume(returning: value)
        for hook in hooks { hook() }
    }
}
