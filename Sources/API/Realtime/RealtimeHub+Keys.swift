import Engines
import Logging
import Reactor

/// Key checks: on connect and subscribe (through the service's short cache), and the periodic
/// sweep that disconnects clients whose key stopped being valid or changed.
extension RealtimeHub {
    /// Looks `presented` up (from the cache in this tick when possible) and continues with the
    /// accepted key on the reactor thread; a refused key disconnects the client.
    func verify(_ presented: String, for client: Client, then: @escaping (RealtimeHub, Client, ApiKey) -> Void) {
        if let cached = keys.authenticateCached(presented) {
            return conclude(cached, client, then)
        }
        // One object in the box: destructuring a boxed tuple inside the task over-released its
        // elements with this toolchain (seen under AddressSanitizer).
        let box = ReactorBound(PendingCheck(hub: self, client: client, then: then))
        let keys = self.keys
        Task(executorPreference: reactor.handle) {
            let pending = box.value
            let verdict: Result<ApiKey, ApiKeyRefusal>
            do {
                verdict = try await keys.authenticate(presented)
            } catch {
                // The main database is down: the key cannot be checked, so it is not accepted.
                pending.hub.logger.debug("real-time key check failed", metadata: ["error": "\(error)"])
                let failure = RealtimeFailure(code: .unauthorized, message: "API key could not be verified")
                return pending.hub.refuse(pending.client, failure)
            }
            pending.hub.conclude(verdict, pending.client, pending.then)
        }
    }

    private func conclude(_ verdict: Result<ApiKey, ApiKeyRefusal>, _ client: Client, _ then: (RealtimeHub, Client, ApiKey) -> Void) {
        guard clients[client.id] === client else { return }  // gone meanwhile
        switch verdict {
        case .failure(let refusal): refuse(client, RealtimeFailure(code: .unauthorized, message: refusal.message))
        case .success(let key): then(self, client, key)
        }
    }

    /// Role and scopes unchanged (name, usage and timestamps may differ).
    func sameAuthorization(_ a: ApiKey, _ b: ApiKey) -> Bool {
        a.id == b.id && a.role == b.role && a.allowedSessions == b.allowedSessions && a.allowedChats == b.allowedChats
            && a.allowedIps == b.allowedIps
    }

    func scheduleSweep() {
        sweepTimer = reactor.schedule(afterMilliseconds: settings.keySweepIntervalMilliseconds) { [weak self] in
            self?.sweepKeys()
            self?.scheduleSweep()
        }
    }

    /// Closes clients whose key was deleted, revoked, expired, or had its role or scopes changed.
    func sweepKeys() {
        for client in clients.values where client.key != nil {
            guard let presented = client.presentedKey, let key = client.key else { continue }
            verifyForSweep(presented, client: client, key: key)
        }
    }

    private func verifyForSweep(_ presented: String, client: Client, key: ApiKey) {
        let box = ReactorBound(PendingCheck(hub: self, client: client, then: { _, _, _ in }))
        let keys = self.keys
        Task(executorPreference: reactor.handle) {
            let verdict = try? await keys.authenticate(presented)
            let hub = box.value.hub
            let client = box.value.client
            guard hub.clients[client.id] === client else { return }
            switch verdict {
            case nil:
                break  // the database is unreachable: keep the client, try again next sweep
            case .failure(let refusal):
                let reason: String
                switch refusal {
                case .revoked: reason = "API key has been revoked"
                case .expired: reason = "API key has expired"
                case .unknown, .missing: reason = "API key has been deleted"
                }
                return hub.refuse(client, RealtimeFailure(code: .unauthorized, message: reason))
            case .success(let fresh) where !hub.sameAuthorization(fresh, key):
                let failure = RealtimeFailure(code: .unauthorized, message: "API key authorization changed; please reconnect")
                return hub.refuse(client, failure)
            case .success:
                break
            }
        }
    }
}

/// A key lookup in flight: who asked, and what to do with an accepted key.
private final class PendingCheck {
    let hub: RealtimeHub
    let client: RealtimeHub.Client
    let then: (RealtimeHub, RealtimeHub.Client, ApiKey) -> Void

    init(hub: RealtimeHub, client: RealtimeHub.Client, then: @escaping (RealtimeHub, RealtimeHub.Client, ApiKey) -> Void) {
        self.hub = hub
        self.client = client
        self.then = then
    }
}
