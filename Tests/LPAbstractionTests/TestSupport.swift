import Foundation
import Network
@testable import LPAbstraction

/// A small seeded generator so every test is deterministic.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Networks built in code, for tests that must not depend on files.
enum TestNetworks {
    static func dense(_ rows: Int, _ columns: Int, scale: Double, rng: inout SplitMix64) -> DenseLayer {
        let w = (0..<(rows * columns)).map { _ in Double(Float(Double.random(in: -scale...scale, using: &rng))) }
        let b = (0..<rows).map { _ in Double(Float(Double.random(in: -0.5...0.5, using: &rng))) }
        return DenseLayer(weights: Matrix(rows: rows, columns: columns, values: w), bias: b)
    }

    /// A fully-connected ReLU network with the given layer widths (`widths[0]` inputs, last = outputs).
    static func randomDense(widths: [Int], seed: UInt64) -> Network {
        var rng = SplitMix64(seed: seed)
        var nodes = [Node(operation: .input, inputs: [], shape: [widths[0]], name: "input")]
        for l in 1..<widths.count {
            let scale = 1.5 / Double(widths[l - 1]).squareRoot()
            nodes.append(Node(operation: .dense(dense(widths[l], widths[l - 1], scale: scale, rng: &rng)),
                              inputs: [nodes.count - 1], shape: [widths[l]], name: "fc\(l)"))
            if l < widths.count - 1 {
                nodes.append(Node(operation: .relu, inputs: [nodes.count - 1], shape: [widths[l]], name: "relu\(l)"))
            }
        }
        let network = Network(nodes: nodes, output: nodes.count - 1)
        try! network.validate()
        return network
    }

    /// A 3×3 convolution with `out` channels over `inShape`, weights in `±scale` and biases in
    /// `±0.3` (float32 values, drawn weights first).
    static func convolution(_ inShape: [Int], out: Int, stride: Int, pad: Int, scale: Double,
                            rng: inout SplitMix64) -> Convolution {
        let count = out * inShape[0] * 9
        let w = (0..<count).map { _ in Double(Float(Double.random(in: -scale...scale, using: &rng))) }
        let b = (0..<out).map { _ in Double(Float(Double.random(in: -0.3...0.3, using: &rng))) }
        return Convolution(weights: w, bias: b, inputShape: inShape, outChannels: out, kernel: (3, 3),
                           strides: (stride, stride), pads: (pad, pad, pad, pad))
    }

    /// Input [2, 6, 6] → conv(3, 3×3, pad 1) → ReLU → conv(4, 3×3, stride 2) → ReLU → dense 3.
    static func randomConvolutional(seed: UInt64) -> Network {
        var rng = SplitMix64(seed: seed)
        let c1 = convolution([2, 6, 6], out: 3, stride: 1, pad: 1, scale: 0.4, rng: &rng)
        let c2 = convolution(c1.outputShape, out: 4, stride: 2, pad: 0, scale: 0.4, rng: &rng)
        let flat = c2.outputShape.reduce(1, *)
        let nodes = [
            Node(operation: .input, inputs: [], shape: [2, 6, 6]),
            Node(operation: .convolution(c1), inputs: [0], shape: c1.outputShape),
            Node(operation: .relu, inputs: [1], shape: c1.outputShape),
            Node(operation: .convolution(c2), inputs: [2], shape: c2.outputShape),
            Node(operation: .relu, inputs: [3], shape: c2.outputShape),
            Node(operation: .dense(dense(3, flat, scale: 0.5, rng: &rng)), inputs: [4], shape: [3]),
        ]
        let network = Network(nodes: nodes, output: 5)
        try! network.validate()
        return network
    }

    /// A residual network: input 4 → elementwise affine → dense 6 → ReLU(r1) → dense 6 → add(r1)
    /// → ReLU → dense 6 → add(itself) → ReLU → dense 2.
    static func randomResidual(seed: UInt64) -> Network {
        var rng = SplitMix64(seed: seed)
        let scale = (0..<4).map { _ in Double.random(in: 0.5...2, using: &rng) * (Bool.random(using: &rng) ? 1 : -1) }
        let shift = (0..<4).map { _ in Double.random(in: -0.5...0.5, using: &rng) }
        let nodes = [
            Node(operation: .input, inputs: [], shape: [4]),
            Node(operation: .elementwiseAffine(scale: scale, shift: shift), inputs: [0], shape: [4]),
            Node(operation: .dense(dense(6, 4, scale: 0.8, rng: &rng)), inputs: [1], shape: [6]),
            Node(operation: .relu, inputs: [2], shape: [6]),
            Node(operation: .dense(dense(6, 6, scale: 0.6, rng: &rng)), inputs: [3], shape: [6]),
            Node(operation: .add, inputs: [4, 3], shape: [6]),
            Node(operation: .relu, inputs: [5], shape: [6]),
            Node(operation: .dense(dense(6, 6, scale: 0.6, rng: &rng)), inputs: [6], shape: [6]),
            Node(operation: .add, inputs: [7, 7], shape: [6]),
            Node(operation: .relu, inputs: [8], shape: [6]),
            Node(operation: .dense(dense(2, 6, scale: 0.6, rng: &rng)), inputs: [9], shape: [2]),
        ]
        let network = Network(nodes: nodes, output: 10)
        try! network.validate()
        return network
    }

    static func randomBox(dimension: Int, rng: inout SplitMix64, width: ClosedRange<Double> = 0.1...1.0) -> Box {
        var lower: [Double] = [], upper: [Double] = []
        for _ in 0..<dimension {
            let c = Double.random(in: -1...1, using: &rng)
            let w = Double.random(in: width, using: &rng)
            lower.append(c - w / 2)
            upper.append(c + w / 2)
        }
        return Box(lower: lower, upper: upper)
    }
}

/// Sample points of a box: random points, corners, and the centre.
func samplePoints(_ box: Box, count: Int, rng: inout SplitMix64) -> [[Double]] {
    let n = box.dimension
    var points: [[Double]] = []
    for _ in 0..<count {
        points.append((0..<n).map { Double.random(in: box.lower[$0]...box.upper[$0], using: &rng) })
    }
    if n <= 10 {
        for mask in 0..<(1 << n) {
            points.append((0..<n).map { mask & (1 << $0) != 0 ? box.upper[$0] : box.lower[$0] })
        }
    } else {
        for _ in 0..<200 { points.append((0..<n).map { Bool.random(using: &rng) ? box.upper[$0] : box.lower[$0] }) }
    }
    points.append((0..<n).map { 0.5 * (box.lower[$0] + box.upper[$0]) })
    return points
}

/// The network whose output is the pre-activation node of ReLU layer `layer`, so brute force
/// over its (earlier) activation patterns gives the exact range of that layer's neurons.
func truncated(_ network: Network, toPreActivationOf layer: Int) -> Network {
    let p = network.nodes[network.reluNodes[layer]].inputs[0]
    return Network(nodes: Array(network.nodes[0...p]), output: p)
}

/// Exact min and max of every pre-activation, by enumerating activation patterns.
func exactRanges(_ network: Network, box: Box) -> [[(min: Double, max: Double)]] {
    network.reluNodes.indices.map { layer in
        let prefix = truncated(network, toPreActivationOf: layer)
        let brute = BruteForce(network: prefix, box: box)
        return (0..<prefix.outputSize).map { i in
            var c = [Double](repeating: 0, count: prefix.outputSize)
            c[i] = 1
            let low = brute.minimum(outputCoefficients: c)!
            c[i] = -1
            let high = -brute.minimum(outputCoefficients: c)!
            return (low, high)
        }
    }
}

/// The phases of every ReLU at an input (pre-activation ≥ 0 ⇒ active), evaluated in `Float80`.
func activationPattern(_ network: Network, input: [Double]) -> [[Phase]] {
    let values: [[Float80]] = network.nodeValues(input.map { Float80($0) })
    return network.reluNodes.map { relu in
        values[network.nodes[relu].inputs[0]].map { $0 >= 0 ? Phase.active : Phase.inactive }
    }
}

/// Whether the real pre-activations at `values` agree with the fixed phases of `assignment`.
func agrees(_ network: Network, values: [[Float80]], with assignment: PhaseAssignment) -> Bool {
    for (layer, relu) in network.reluNodes.enumerated() {
        let x = values[network.nodes[relu].inputs[0]]
        for (i, phase) in assignment.phases[layer].enumerated() {
            if phase == .active && x[i] < 0 { return false }
            if phase == .inactive && x[i] > 0 { return false }
        }
    }
    return true
}

/// The shared benchmark folder next to the repository (`../shared`), if present.
func sharedFolder() -> URL? {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }   // …/Tests/LPAbstractionTests/file → repo root
    let shared = url.deletingLastPathComponent().appendingPathComponent("shared")
    return FileManager.default.fileExists(atPath: shared.path) ? shared : nil
}
