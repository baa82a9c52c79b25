import LPAbstraction
import Network

/// Compares two networks on points of a box: the empirical half of "exact means exact" (the
/// proof is that every removed or folded neuron was proved stable; `nnverify compress --prove`
/// adds a verifier proof of `|f − g| ≤ T`).
///
/// Two kinds of points are compared and reported separately: sampled ones (uniform, vertices,
/// the centre, witnesses) and attacked ones, where a projected sign-gradient ascent looked for
/// the largest `|f_i − g_i|`. Sampling measures the typical difference; the attack goes where a
/// wrongly removed neuron would show, which random points of a high-dimensional box rarely hit.
public struct EquivalenceCheck: Sendable {
    /// Largest absolute output difference over all compared points (sampled and attacked).
    public var maxAbsoluteDifference: Double
    /// Largest difference relative to `max(|original output|, 1)` over all compared points.
    public var maxRelativeDifference: Double
    /// Number of sampled points compared.
    public var points: Int
    /// Largest absolute output difference over the sampled points.
    public var sampledMaxAbsoluteDifference: Double
    /// Largest absolute output difference over the attacked points (0 when no attack ran).
    public var attackedMaxAbsoluteDifference: Double
    /// Number of attacked points compared (the best point of each attack run).
    public var attackedPoints: Int
    /// The input with the largest absolute difference (sampled or attacked).
    public var worstInput: [Double]
    /// Largest absolute output of the original network over all compared points: the scale a
    /// relative tolerance refers to.
    public var maxAbsoluteOutput: Double

    /// Evaluates both networks in Double on `samples` seeded uniform points of `box`, its centre,
    /// random vertices, and any `extraPoints` (e.g. the detector's witnesses, which sit where
    /// neurons switch phase and so probe the removed neurons' boundaries); then runs `attack`.
    public init(original: Network, compressed: Network, box: Box, samples: Int, seed: UInt64 = 0,
                extraPoints: [[Double]] = [], attack: EquivalenceAttack = EquivalenceAttack()) {
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
        var sampled = Tally()
        for x in points { sampled.compare(original: original, compressed: compressed, at: x) }
        var attacked = Tally()
        for x in attack.run(original: original, compressed: compressed, box: box, starts: sampled.bestPerOutput,
                            generator: &generator) {
            attacked.compare(original: original, compressed: compressed, at: x)
        }
        maxAbsoluteDifference = max(sampled.absolute, attacked.absolute)
        maxRelativeDifference = max(sampled.relative, attacked.relative)
        self.points = points.count
        sampledMaxAbsoluteDifference = sampled.absolute
        attackedMaxAbsoluteDifference = attacked.absolute
        attackedPoints = attacked.count
        worstInput = attacked.absolute > sampled.absolute ? attacked.worst : sampled.worst
        maxAbsoluteOutput = max(sampled.outputScale, attacked.outputScale)
    }
}

/// Running maxima of the differences over a set of points, in `Network.evaluate`'s arithmetic.
private struct Tally {
    var absolute = 0.0, relative = 0.0, outputScale = 0.0
    var worst: [Double] = []
    var count = 0
    /// Per output, the point with the largest `|f_i − g_i|` so far: where the attack starts.
    var bestPerOutput: [Int: (difference: Double, point: [Double])] = [:]

    mutating func compare(original: Network, compressed: Network, at x: [Double]) {
        count += 1
        if worst.isEmpty { worst = x }
        for (i, (a, b)) in zip(original.evaluate(x), compressed.evaluate(x)).enumerated() {
            let d = abs(a - b)
            if d > absolute { absolute = d; worst = x }
            relative = max(relative, d / max(abs(a), 1))
            outputScale = max(outputScale, abs(a))
            if d > (bestPerOutput[i]?.difference ?? -1) { bestPerOutput[i] = (d, x) }
        }
    }
}

/// The gradient attack of ``EquivalenceCheck``: projected gradient ascent with sign steps (PGD)
/// on `s · (f_i − g_i)` for every output `i` and both signs `s`, inside the box.
///
/// The first run of each (output, sign) starts at the sampled point with the largest `|f_i − g_i|`,
/// the others at random points. It differentiates the difference network
/// (``Network/difference(_:_:)``), so one backward pass gives `∇(f_i − g_i)`.
public struct EquivalenceAttack: Sendable {
    /// Runs per output and sign (0 switches the attack off).
    public var restarts: Int
    /// Sign-gradient steps per run.
    public var steps: Int
    /// First step as a fraction of the box width; later steps shrink geometrically (× 0.8), so the
    /// run first crosses the box and then refines near the kinks where differences appear.
    public var initialStep: Double

    /// Creates attack settings; the defaults cost `2 · outputs · 3 · 20` forward and backward
    /// passes of the two networks.
    public init(restarts: Int = 3, steps: Int = 20, initialStep: Double = 0.25) {
        self.restarts = restarts
        self.steps = steps
        self.initialStep = initialStep
    }

    /// The best point (largest `s · (f_i − g_i)` seen) of every run.
    func run(original: Network, compressed: Network, box: Box,
             starts: [Int: (difference: Double, point: [Double])],
             generator: inout SeededGenerator) -> [[Double]] {
        guard restarts > 0, steps > 0, let difference = try? Network.difference(original, compressed) else { return [] }
        var engine = NetworkGradient(network: difference)
        let n = box.dimension
        let width = (0..<n).map { box.upper[$0] - box.lower[$0] }
        var gradient: [Double] = []
        var found: [[Double]] = []
        for i in 0..<difference.outputSize {
            for sign in [1.0, -1.0] {
                for r in 0..<restarts {
                    var x = r == 0 ? starts[i]?.point : nil
                    if x == nil {
                        x = (0..<n).map { width[$0] > 0 ? box.lower[$0] + width[$0] * Double.random(in: 0...1, using: &generator) : box.lower[$0] }
                    }
                    var point = x!
                    var best = point, bestValue = -Double.infinity
                    var step = initialStep
                    for _ in 0..<steps {
                        engine.forward(point)
                        let value = sign * engine.output(i)
                        if value > bestValue { bestValue = value; best = point }
                        engine.backward(from: difference.output, index: i, into: &gradient)
                        for j in 0..<n where gradient[j] != 0 {
                            let moved = point[j] + sign * step * width[j] * (gradient[j] > 0 ? 1 : -1)
                            point[j] = Swift.min(Swift.max(moved, box.lower[j]), box.upper[j])
                        }
                        step *= 0.8
                    }
                    engine.forward(point)
                    if sign * engine.output(i) > bestValue { best = point }
                    found.append(best)
                }
            }
        }
        return found
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
