import Foundation
import Glibc
import Logging
import Reactor
import WAProtocol

/// Paced sends for load measurements (`POST /admin/phones/:phone/messages/stream`).
///
/// The phone sends `count` texts to `to` at `perSecond`, paced by the simulator's own loop, so the
/// rate does not depend on how fast a client can call the admin API and the caller's own
/// scheduling stays out of the measurement. Each text carries the CLOCK_MONOTONIC instant at which
/// its send began (`t=<nanoseconds>`): a process on the same host reads that clock too, so it can
/// time the whole path from the phone to wherever the text arrives.
extension SimulatorCore {
    /// The body of the stream route.
    struct PhoneStream: Decodable {
        let to: String
        let count: Int
        let perSecond: Int
        /// Message ids are this prefix and the index (default "STREAM").
        let idPrefix: String?
    }

    /// What the stream route answers: the stream is under way when it returns.
    struct PhoneStreamStarted: Encodable {
        let count: Int
        let perSecond: Int
        let firstID: String
    }

    static let maximumStreamCount = 10_000_000
    static let maximumStreamRate = 100_000

    func streamFromPhone(_ phone: String, json: [UInt8]) throws(SimulatorError) -> PhoneStreamStarted {
        let body: PhoneStream
        do { body = try JSONDecoder().decode(PhoneStream.self, from: Data(json)) } catch {
            throw .badRequest("invalid JSON body for this route")
        }
        guard (1...Self.maximumStreamCount).contains(body.count) else {
            throw .badRequest("count must be between 1 and \(Self.maximumStreamCount)")
        }
        guard (1...Self.maximumStreamRate).contains(body.perSecond) else {
            throw .badRequest("perSecond must be between 1 and \(Self.maximumStreamRate)")
        }
        _ = try account(phone)
        guard accounts[body.to] != nil else { throw .notFound("no phone \(body.to)") }
        let prefix = body.idPrefix ?? "STREAM"
        guard !prefix.isEmpty, prefix.utf8.count <= 64, prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw .badRequest("idPrefix must be 1 to 64 ASCII letters or digits")
        }
        let stream = Stream(phone: phone, to: body.to, count: body.count, perSecond: body.perSecond, prefix: prefix)
        sendDue(stream)
        return PhoneStreamStarted(count: body.count, perSecond: body.perSecond, firstID: stream.id(0))
    }

    /// One stream's progress; touched only on the simulator's loop.
    final class Stream {
        let phone: String
        let to: String
        let count: Int
        let perSecond: Int
        let prefix: String
        let startedAt = SimulatorCore.monotonicNanoseconds()
        var sent = 0

        init(phone: String, to: String, count: Int, perSecond: Int, prefix: String) {
            self.phone = phone
            self.to = to
            self.count = count
            self.perSecond = perSecond
            self.prefix = prefix
        }

        func id(_ index: Int) -> String { "\(prefix)\(index)" }

        /// How many messages should be out by `now`.
        func due(at now: UInt64) -> Int {
            let elapsed = Double(now &- startedAt) / 1e9
            return min(count, Int(elapsed * Double(perSecond)) + 1)
        }
    }

    /// Sends what is due, then looks again in a millisecond (the loop's timer resolution); late
    /// ticks catch up, so the average rate holds even when the loop was busy.
    private func sendDue(_ stream: Stream) {
        let due = stream.due(at: Self.monotonicNanoseconds())
        while stream.sent < due {
            let index = stream.sent
            stream.sent += 1
            let text = "stream \(index) t=\(Self.monotonicNanoseconds())"
            do {
                _ = try sendFromPhone(stream.phone, to: stream.to, content: MessageCodec.text(text), id: stream.id(index))
            } catch {
                logger.warning(
                    "message stream stopped", metadata: ["phone": "\(stream.phone)", "sent": "\(index)", "error": "\(error.message)"])
                return
            }
        }
        guard stream.sent < stream.count else { return }
        _ = reactor.schedule(afterMilliseconds: 1) { [weak self] in self?.sendDue(stream) }
    }

    /// CLOCK_MONOTONIC in nanoseconds: the clock every process on the host shares.
    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
