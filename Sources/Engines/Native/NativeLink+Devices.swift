import Foundation
import Logging
import Reactor
import WAProtocol

/// `<notification type="devices">` (reference part 2, 3.6): a user linked or unlinked a device.
/// The cached device list is dropped, so the next send asks usync again instead of missing a new
/// device or encrypting for a gone one for up to a minute; a removed device's session is deleted
/// (device ids are never reused).
extension NativeLink {
    func handleDevicesNotification(_ node: BinaryNode) {
        guard let user = node.attributes.jid("from")?.bare else { return }
        deviceCache[user.description] = nil
        let removed = node.children("remove").flatMap { $0.children("device") }.compactMap { $0.attributes.jid("jid") }
        guard !removed.isEmpty else { return }
        let changes: NativeSignal.Changes = Dictionary(
            removed.map { (NativeSignal.Key.session(NativeSignal.address(of: $0)), [UInt8]?.none) }, uniquingKeysWith: { first, _ in first })
        enqueueSignalJob { link, done in
            guard let signal = link.signalContext() else { return done() }
            link.runAsync({ try await signal.write(changes) }) { link, result in
                if case .failure(let error) = result {
                    link.logger.warning("sessions of removed devices not deleted", metadata: ["error": "\(error)"])
                }
                done()
            }
        }
    }
}
