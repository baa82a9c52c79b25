import LPAbstraction
import Network

/// Compares two networks on points of a box: the empirical half of "exact means exact" (the
/// proof is that every removed or folded neuron was proved stable).
public struct EquivalenceCheck: Sendable {
    /// Largest absolute output difference seen.
    public var maxAbsoluteDifference: Double
    /// Largest difference relative to `max(|original output|, 1)`.
    public var maxRelativeDifference: Double
    /// Number of points compared.
    public var points: Int

    /// Evaluates both networks in Double on `samples` seeded uniform points of `box`, its centre,
    /// random vertices, and any `extraPoints` (e.g. the detector's witnesses, which sit where
    /// neurons switch phase and so probe the removed neurons' boundaries).
    public init(original: Network, compressed: Network, box: Box, samples: Int, seed: UInt64 = 0, extraPoints: [[Double]] = []) {
        var generator = SeededGenerator(seed: seed)
        var points = extraPoints.filter { box.contains($0) }
        points.append(zip(box.lower, box.upper).map { ($0 + $1) / 2 })
        for s in 0..<samples {
            if s % 4 == 3 {
                points.append(zip(box.lower, box.upper).map { Bool.random(using: &generator) ? $0 : $1 })
            } else {
                points.append(zip(box.lower, box.upper).map { $0 == $1 ? $0 : Double.random(in: $0...$1, using: &generator) })
            }
        }
        var absolute = 0.0, relative = 0.0
        for x in points {
            for (a, b) in zip(original.evaluate(x), compressed.evaluate(x)) {
                absolute = max(absolute, abs(a - b))
                relative = max(relative, abs(a - b) / max(abs(a), 1))
            }
        }
        maxAbsoluteDifference = absolute
        maxRelativeDifference = relative
        self.points = points.count
    }
}

/// SplitMix64: a small seeded generator so equivalence checks reproduce.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
