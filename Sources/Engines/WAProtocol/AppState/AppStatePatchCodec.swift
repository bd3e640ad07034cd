import Foundation
import Reactor
import SwiftProtobuf

/// Builds and verifies app-state patches (ref part 2 §7.5-7.6). Both sides of the protocol use
/// it: a companion applying what the server hands out and uploading its own changes, and the
/// simulated primary writing its changes exactly as a real device would.
package enum AppStatePatchCodec {
    /// Encrypts `mutations` under `key` and chains them onto `state`: the patch for version
    /// `state.version + 1` (its `version` field left unset, as whatsmeow sends it) and the state it
    /// leads to. `iv` makes each record's IV; tests pass a fixed one.
    package static func encode(
        _ mutations: [AppStateMutation], collection: String, state: AppStateCollectionState, key: AppStateSyncKey,
        iv: () throws -> [UInt8] = { try Crypto.randomBytes(16) }
    ) throws(ProtocolError) -> (patch: Waproto_SyncdPatch, state: AppStateCollectionState) {
        var records: [(operation: AppStateOperation, index: [UInt8], value: [UInt8])] = []
        for mutation in mutations {
            var data = Waproto_SyncActionData()
            data.index = Data(mutation.indexJSON)
            data.value = mutation.value
            data.padding = Data()
            data.version = mutation.version
            let plaintext: [UInt8]
            let freshIV: [UInt8]
            do {
                plaintext = Array(try data.serializedData())
                freshIV = try iv()
            } catch { throw ProtocolError.crypto("app-state record could not be prepared: \(error)") }
            let blob = try AppStateValueCipher.seal(
                plaintext, operation: mutation.operation, keyID: key.id, iv: freshIV, keys: key.keys)
            records.append((mutation.operation, AppStateMAC.indexMAC(index: mutation.indexJSON, keys: key.keys), blob))
        }
        var next = state
        next.version = state.version + 1
        let valueMACs = records.map { Array($0.value.suffix(32)) }
        chain(records.map { ($0.operation, $0.index, Array($0.value.suffix(32))) }, into: &next)
        let snapshotMAC = AppStateMAC.snapshotMAC(ltHash: next.hash, version: next.version, collection: collection, keys: key.keys)
        var patch = Waproto_SyncdPatch()
        patch.mutations = records.map { record in
            var mutation = Waproto_SyncdMutation()
            mutation.operation = record.operation == .set ? .set : .remove
            mutation.record.index.blob = Data(record.index)
            mutation.record.value.blob = Data(record.value)
            mutation.record.keyID.id = Data(key.id)
            return mutation
        }
        patch.snapshotMac = Data(snapshotMAC)
        patch.patchMac = Data(
            AppStateMAC.patchMAC(
                snapshotMAC: snapshotMAC, valueMACs: valueMACs, version: next.version, collection: collection, keys: key.keys))
        patch.keyID.id = Data(key.id)
        return (patch, next)
    }

    /// Every key id a patch needs: its own and its records'.
    package static func keyIDs(of patch: Waproto_SyncdPatch) -> Set<[UInt8]> {
        var ids: Set<[UInt8]> = [Array(patch.keyID.id)]
        for mutation in patch.mutations where mutation.record.hasKeyID { ids.insert(Array(mutation.record.keyID.id)) }
        return ids
    }

    /// Verifies `patch` against `state` (snapshot and patch MACs, each value MAC and index MAC)
    /// and decodes it. Nothing is applied unless everything verifies; a missing key, a bad MAC or
    /// a record that does not decode throws, the state stays as it was.
    package static func apply(
        _ patch: Waproto_SyncdPatch, collection: String, to state: AppStateCollectionState,
        keys: [[UInt8]: AppStateSyncKey]
    ) throws(ProtocolError) -> (state: AppStateCollectionState, mutations: [AppStateMutation]) {
        guard let patchKey = keys[Array(patch.keyID.id)] else { throw ProtocolError.unexpected("app-state key missing") }
        let version = patch.hasVersion ? patch.version.version : state.version + 1
        var decoded: [AppStateMutation] = []
        var chained: [(AppStateOperation, [UInt8], [UInt8])] = []
        var valueMACs: [[UInt8]] = []
        for mutation in patch.mutations {
            let operation: AppStateOperation = mutation.operation == .remove ? .remove : .set
            let keyID = mutation.record.hasKeyID ? Array(mutation.record.keyID.id) : patchKey.id
            guard let key = keys[keyID] else { throw ProtocolError.unexpected("app-state key missing") }
            let blob = Array(mutation.record.value.blob)
            let plaintext = try AppStateValueCipher.open(blob, operation: operation, keyID: keyID, keys: key.keys)
            let data: Waproto_SyncActionData
            do { data = try Waproto_SyncActionData(serializedBytes: plaintext) } catch {
                throw ProtocolError.malformed("app-state record is not a SyncActionData")
            }
            let indexMAC = Array(mutation.record.index.blob)
            guard Crypto.constantTimeEquals(AppStateMAC.indexMAC(index: Array(data.index), keys: key.keys), indexMAC) else {
                throw ProtocolError.authentication("app-state index MAC mismatch")
            }
            let valueMAC = try AppStateValueCipher.valueMAC(of: blob)
            valueMACs.append(valueMAC)
            chained.append((operation, indexMAC, valueMAC))
            decoded.append(
                AppStateMutation(
                    operation: operation, index: try AppStateMutation.parseIndex(Array(data.index)), value: data.value,
                    version: data.version))
        }
        var next = state
        next.version = version
        chain(chained, into: &next)
        let snapshotMAC = AppStateMAC.snapshotMAC(ltHash: next.hash, version: version, collection: collection, keys: patchKey.keys)
        guard Crypto.constantTimeEquals(snapshotMAC, Array(patch.snapshotMac)) else {
            throw ProtocolError.authentication("app-state snapshot MAC mismatch at \(collection) v\(version)")
        }
        let patchMAC = AppStateMAC.patchMAC(
            snapshotMAC: snapshotMAC, valueMACs: valueMACs, version: version, collection: collection, keys: patchKey.keys)
        guard Crypto.constantTimeEquals(patchMAC, Array(patch.patchMac)) else {
            throw ProtocolError.authentication("app-state patch MAC mismatch at \(collection) v\(version)")
        }
        return (next, decoded)
    }

    /// The §7.5 hash rule: each SET adds its value MAC; the previous value of the same index (an
    /// earlier mutation of this patch, else the stored map) is subtracted. Updates the map too.
    static func chain(_ records: [(AppStateOperation, [UInt8], [UInt8])], into state: inout AppStateCollectionState) {
        var added: [[UInt8]] = []
        var removed: [[UInt8]] = []
        for (operation, indexMAC, valueMAC) in records {
            if let previous = state.valueMACs[indexMAC] { removed.append(previous) }
            switch operation {
            case .set:
                added.append(valueMAC)
                state.valueMACs[indexMAC] = valueMAC
            case .remove:
                state.valueMACs[indexMAC] = nil
            }
        }
        state.hash.apply(subtracting: removed, adding: added)
    }
}
