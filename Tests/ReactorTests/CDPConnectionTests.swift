import Synchronization
import Testing
import TestSupport
@testable import Reactor

/// The CDP connection against a scripted peer on a real pipe pair (no browser): correlation,
/// events, deadlines on the reactor clock, and failing what is pending when the pipe ends.
@Suite(.timeLimit(.minutes(1))) struct CDPConnectionTests {
    /// The peer's side of the two pipes, blocking.
    final class Peer: Sendable {
        let commands: CInt  // reads what the connection sends
        let responses: CInt  // writes what the connection reads
        init(commands: CInt, responses: CInt) {
            self.commands = commands
            self.responses = responses
        }

        /// Reads one NUL-terminated command.
        func readCommand() throws -> JSONValue {
            var bytes: [UInt8] = []
            var byte: [UInt8] = [0]
            while true {
                guard case .processed(1) = try byte.withUnsafeMutableBytes({ try PipeIO.read(commands, into: $0) }) else {
                    throw ReactorError.closed
                }
                if byte[0] == 0 { return try JSONParser.parse(bytes) }
                bytes.append(byte[0])
            }
        }

        func write(_ text: String) throws {
            let bytes = Array(text.utf8).map { $0 == UInt8(ascii: "|") ? 0 : $0 }  // "|" stands for NUL
            _ = try bytes.withUnsafeBytes { try PipeIO.write(responses, from: $0) }
        }

        func closeResponses() { PipeIO.close(responses) }
        func close() {
            PipeIO.close(commands)
        }
    }

    final class Results: Sendable {
        let replies = Mutex<[Int: Result<JSONValue, ReactorError>]>([:])
        let events = Mutex<[CDPEvent]>([])
        let closed = Mutex<Bool>(false)
    }

    struct World {
        let handle: ReactorHandle
        let clock: ManualReactorClock
        let peer: Peer
        let connection: ReactorBound<CDPConnection>
        let results: Results
    }

    private func world() async throws -> World {
        let clock = ManualReactorClock()
        let handle = try ReactorThread.start(name: "cdp", clock: clock, workers: WorkerPool(size: 1), logger: quietLogger)
        let command = try Spawn.pipe(nonBlockingRead: false, nonBlockingWrite: true)
        let response = try Spawn.pipe(nonBlockingRead: true, nonBlockingWrite: false)
        let results = Results()
        let connection = try await handle.submit { reactor in
            let connection = try CDPConnection(reactor: reactor, commandFD: command.write, responseFD: response.read, logger: quietLogger)
            connection.onEvent = { event in results.events.withLock { $0.append(event) } }
            connection.onClose = { _ in results.closed.withLock { $0 = true } }
            return ReactorBound(handle: reactor.handle, connection)
        }
        return World(
            handle: handle, clock: clock, peer: Peer(commands: command.read, responses: response.write), connection: connection,
            results: results)
    }

    private func send(_ world: World, _ key: Int, _ method: String, session: String? = nil, timeout: Int = 10_000) async throws {
        let results = world.results
        let connection = world.connection
        _ = try await world.handle.submit { _ in
            connection.value.send(method, [:], session: session, timeoutMilliseconds: timeout) { result in
                results.replies.withLock { $0[key] = result }
            }
        }
    }

    private func reply(_ world: World, _ key: Int) async throws -> Result<JSONValue, ReactorError> {
        for _ in 0..<500 {
            if let result = world.results.replies.withLock({ $0[key] }) { return result }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw ReactorError.timedOut("reply \(key)")
    }

    private func finish(_ world: World) async {
        let connection = world.connection
        let left = try? await world.handle.submit { reactor in
            connection.value.close()
            return (reactor.registrationCount, reactor.timerCount)
        }
        #expect(left?.0 == 0 && left?.1 == 0, "nothing left on the reactor")
        world.peer.close()
        world.peer.closeResponses()
        world.handle.stop()
        await world.handle.waitUntilStopped()
    }

    @Test func repliesResolveTheirCommandsAndEventsCarryTheirSession() async throws {
        let world = try await world()
        try await send(world, 1, "Page.enable", session: "S1")
        let command = try world.peer.readCommand()
        #expect(command["method"] == "Page.enable" && command["sessionId"] == "S1")
        let id = try #require(command["id"]?.intValue)
        // An event and the reply, cut across three writes.
        try world.peer.write(#"{"method":"Page.loadEventFired","params":{"t":1},"sess"#)
        try world.peer.write(#"ionId":"S1"}|{"id":\#(id),"result":{"ok":tr"#)
        try world.peer.write(#"ue},"sessionId":"S1"}|"#)
        #expect(try await reply(world, 1).get() == ["ok": true])
        let events = world.results.events.withLock { $0 }
        #expect(events.map(\.method) == ["Page.loadEventFired"] && events.first?.sessionID == "S1")
        await finish(world)
    }

    @Test func errorRepliesAreRemoteErrors() async throws {
        let world = try await world()
        try await send(world, 1, "Nope.nothing")
        let id = try #require(try world.peer.readCommand()["id"]?.intValue)
        try world.peer.write(#"{"id":\#(id),"error":{"code":-32601,"message":"'Nope.nothing' wasn't found"}}|"#)
        guard case .failure(let error) = try await reply(world, 1) else { Issue.record("expected an error"); return }
        #expect(error.isRemote && error.remoteCode == -32601)
        await finish(world)
    }

    @Test func aCommandTimesOutOnTheReactorClock() async throws {
        let world = try await world()
        try await send(world, 1, "Runtime.evaluate", timeout: 1_000)
        _ = try world.peer.readCommand()
        world.clock.advance(milliseconds: 999)
        _ = try await world.handle.submit { _ in 0 }
        #expect(world.results.replies.withLock { $0[1] } == nil)
        world.clock.advance(milliseconds: 1)
        guard case .failure(let error) = try await reply(world, 1) else { Issue.record("expected a timeout"); return }
        #expect(error.isTimeout)
        // A late reply to a timed-out command is dropped quietly.
        try world.peer.write(#"{"id":1,"result":{}}|"#)
        _ = try await world.handle.submit { _ in 0 }
        await finish(world)
    }

    @Test func endOfFileFailsEveryPendingCommandAtOnce() async throws {
        let world = try await world()
        try await send(world, 1, "A.a", timeout: 60_000)
        try await send(world, 2, "B.b", session: "S1", timeout: 60_000)
        _ = try world.peer.readCommand()
        _ = try world.peer.readCommand()
        world.peer.closeResponses()
        for key in [1, 2] {
            guard case .failure(let error) = try await reply(world, key) else { Issue.record("expected a failure"); return }
            #expect(error.isClosed)
        }
        #expect(world.results.closed.withLock { $0 })
        world.peer.close()
        let left = try await world.handle.submit { reactor in (reactor.registrationCount, reactor.timerCount) }
        #expect(left == (0, 0))
        world.handle.stop()
        await world.handle.waitUntilStopped()
    }

    @Test func failPendingOnlyFailsThatSessionsCommands() async throws {
        let world = try await world()
        try await send(world, 1, "Runtime.evaluate", session: "page", timeout: 60_000)
        try await send(world, 2, "Target.getTargets", timeout: 60_000)
        _ = try world.peer.readCommand()
        let browserLevel = try #require(try world.peer.readCommand()["id"]?.intValue)
        let connection = world.connection
        _ = try await world.handle.submit { _ in connection.value.failPending(session: "page", .protocolViolation("crashed")) }
        guard case .failure = try await reply(world, 1) else { Issue.record("expected a failure"); return }
        #expect(world.results.replies.withLock { $0[2] } == nil)
        try world.peer.write(#"{"id":\#(browserLevel),"result":{"targetInfos":[]}}|"#)
        #expect(try await reply(world, 2).get() == ["targetInfos": []])
        await finish(world)
    }
}
