import Reactor

/// A token bucket: `ratePerSecond` tokens refill continuously up to `burst`; each frame takes one.
struct TokenBucket {
    let ratePerSecond: Double
    let burst: Double
    private var tokens: Double
    private var updatedAt: ReactorInstant

    init(ratePerSecond: Int, burst: Int, now: ReactorInstant) {
        self.ratePerSecond = Double(ratePerSecond)
        self.burst = Double(max(1, burst))
        self.tokens = self.burst
        self.updatedAt = now
    }

    /// Takes a token when one is left.
    mutating func take(now: ReactorInstant) -> Bool {
        if now > updatedAt {
            let elapsed = Double(now.nanoseconds - updatedAt.nanoseconds) / 1e9
            tokens = min(burst, tokens + elapsed * ratePerSecond)
            updatedAt = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
