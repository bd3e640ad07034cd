import Engines
import Foundation
import Simulator
import Testing
import TestSupport

extension SimulatorWorld {
    /// A world whose engine is linked to `SimulatorWorld.phone` with its prekeys on the server
    /// (so phones can open sessions with it), and a phone for each of `contacts` (number, push name).
    /// It returns once the engine confirmed what the primary queued at linking (its app-state key
    /// share), so tests that count queued stanzas start from none.
    static func linked(contacts: [(String, String)]) async throws -> (SimulatorWorld, NativeEngine, EventRecorder) {
        let world = try await SimulatorWorld.start()
        for (number, name) in contacts { _ = try await world.simulator.createPhone(number, pushName: name) }
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        try await waitUntil { (try await world.simulator.companions(of: SimulatorWorld.phone).first?.preKeyCount ?? 0) > 0 }
        try await waitUntil { try await world.simulator.companions(of: SimulatorWorld.phone).first?.pendingMessages == 0 }
        return (world, engine, recorder)
    }
}
