import Foundation
import Persistence
import Reactor
import WAProtocol

/// One send's encryption, waiting for the session's next Signal job.
struct EncryptRequest: Sendable {
    let plaintexts: [(address: SignalAddress, padded: [UInt8])]
    let devices: [JID]
    let ref: LinkRef
    let completion: @Sendable (Result<[(JID, CiphertextMessage)], any Error>) -> Void
}

/// Outgoing encryption in batches: sends that queue up while a Signal job runs are encrypted
/// together in the next one, in order, with one bundle fetch for the devices any of them lacks
/// and one write of the changed records. A burst of sends costs a few store writes, not one each.
extension NativeLink {
    static let outboundBatch = 64

    func enqueueEncrypt(_ request: EncryptRequest) {
        outboundEncrypts.append(request)
        scheduleOutboundDrain()
    }

    private func scheduleOutboundDrain() {
        guard !outboundDrainScheduled, !outboundEncrypts.isEmpty else { return }
        outboundDrainScheduled = true
        enqueueSignalJob { link, done in
            link.outboundDrainScheduled = false
            let batch = Array(link.outboundEncrypts.prefix(Self.outboundBatch))
            link.outboundEncrypts.removeFirst(batch.count)
            link.encryptBatch(batch) {
                done()
                link.scheduleOutboundDrain()
            }
        }
    }

    private func encryptBatch(_ batch: [EncryptRequest], done: @escaping () -> Void) {
        guard !batch.isEmpty else { return done() }
        guard let signal = signalContext() else {
            for request in batch { request.completion(.failure(EngineError.unavailable("the device is not paired"))) }
            return done()
        }
        let ref = batch[0].ref
        runAsync(preferring: signal.lane.executor, { () async throws -> [[(JID, CiphertextMessage)]] in
            var byAddress: [SignalAddress: JID] = [:]
            for request in batch {
                for device in request.devices { byAddress[NativeSignal.address(of: device)] = device }
            }
            var missing: [SignalAddress] = []
            for address in Set(batch.flatMap { $0.plaintexts.map(\.address) }).sorted(by: { $0.description < $1.description })
            where try await signal.load(NativeSignal.Key.session(address)) == nil {
                missing.append(address)
            }
            let bundles = missing.isEmpty ? [:] : try await ref.bundles(for: missing.compactMap { byAddress[$0] })
            var pending: NativeSignal.Changes = [:]
            var results: [[(JID, CiphertextMessage)]] = []
            for request in batch {
                let (messages, changes) = try await signal.encrypt(request.plaintexts, bundles: bundles, pending: pending)
                pending.merge(changes) { _, new in new }
                results.append(messages.compactMap { address, message in byAddress[address].map { ($0, message) } })
            }
            try await signal.write(pending)
            return results
        }) { _, result in
            switch result {
            case .success(let results):
                for (request, messages) in zip(batch, results) { request.completion(.success(messages)) }
            case .failure(let error):
                for request in batch { request.completion(.failure(error)) }
            }
            done()
        }
    }
}
