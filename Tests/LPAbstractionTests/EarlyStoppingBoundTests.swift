import XCTest
import Network
@testable import LPAbstraction

/// Back-substitution that stops a neuron's pair of rows once the frontier bounds decide its sign
/// (`lowerBounds(…, stopPairsAtDecision: true)`, used for every pre-activation): it must stay
/// sound, and a neuron it does not stop must get a bound at least as tight as the full one.
final class EarlyStoppingBoundTests: XCTestCase {
    /// Input [2, 6, 6] → conv 4 → ReLU (r1) → conv 4 → ReLU → conv 4 → add(r1) → ReLU → conv 3
    /// (stride 2) → ReLU → dense 3: residual, so the frontier often holds two nodes at once.
    static func residualConvolutional(seed: UInt64) -> Network {
        var rng = SplitMix64(seed: seed)
        func conv(_ inShape: [Int], out: Int, stride: Int, pad: Int) -> Convolution {
            TestNetworks.convolution(inShape, out: out, stride: stride, pad: pad, scale: 0.5, rng: &rng)
        }
        let c1 = conv([2, 6, 6], out: 4, stride: 1, pad: 1)
        let c2 = conv(c1.outputShape, out: 4, stride: 1, pad: 1)
        let c3 = conv(c2.outputShape, out: 4, stride: 1, pad: 1)
        let c4 = conv(c3.outputShape, out: 3, stride: 2, pad: 0)
        let flat = c4.outputShape.reduce(1, *)
        let nodes = [
            Node(operation: .input, inputs: [], shape: [2, 6, 6]),
            Node(operation: .convolution(c1), inputs: [0], shape: c1.outputShape),
            Node(operation: .relu, inputs: [1], shape: c1.outputShape),
            Node(operation: .convolution(c2), inputs: [2], shape: c2.outputShape),
            Node(operation: .relu, inputs: [3], shape: c2.outputShape),
            Node(operation: .convolution(c3), inputs: [4], shape: c3.outputShape),
            Node(operation: .add, inputs: [5, 2], shape: c3.outputShape),
            Node(operation: .relu, inputs: [6], shape: c3.outputShape),
            Node(operation: .convolution(c4), inputs: [7], shape: c4.outputShape),
            Node(operation: .relu, inputs: [8], shape: c4.outputShape),
            Node(operation: .dense(TestNetworks.dense(3, flat, scale: 0.5, rng: &rng)), inputs: [9], shape: [3]),
        ]
        let network = Network(nodes: nodes, output: 10)
        try! network.validate()
        return network
    }

    /// The context `BoundPropagator` builds, from finished bounds (as `lowerBound` does).
    func context(_ network: Network, _ bounds: NetworkBounds) -> BackSubstitutionContext {
        var context = BackSubstitutionContext(network: network, reluNodes: network.reluNodes,
                                              absoluteRowSums: BoundPropagator(network: network).absoluteRowSums)
        for (k, b) in bounds.nodes.enumerated() {
            if case .relu = network.nodes[k].operation {
                context.setRelaxation(forReLUNode: k, preActivation: bounds.nodes[network.nodes[k].inputs[0]],
                                      lowerSlopes: nil)
            }
            context.append(b)
        }
        return context
    }

    /// The first value of `bounds` that a sample's exact (`Float80`) node values violate, if any.
    func violation(_ network: Network, _ bounds: NetworkBounds, _ values: [[Float80]]) -> String? {
        for (k, b) in bounds.nodes.enumerated() {
            for i in b.lower.indices where values[k][i] < Float80(b.lower[i]) || values[k][i] > Float80(b.upper[i]) {
                return "node \(k) value \(i) = \(values[k][i]) outside [\(b.lower[i]), \(b.upper[i])]"
            }
        }
        return nil
    }

    /// Full bounds of the residual convolutional network (pairs stopped inside) hold at sampled
    /// points, with and without a partial assignment taken from a sample's activation pattern.
    func testResidualConvolutionalBoundsAreSound() {
        var rng = SplitMix64(seed: 11)
        for trial in 0..<12 {
            let network = Self.residualConvolutional(seed: UInt64(700 + trial))
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.1...0.6)
            let propagator = BoundPropagator(network: network)
            let points = samplePoints(box, count: 600, rng: &rng)
            let interval = propagator.bounds(box: box, method: .interval)
            let symbolic = propagator.bounds(box: box, method: .symbolic)
            XCTAssertFalse(symbolic.isInfeasible)
            let values: [[[Float80]]] = points.map { network.nodeValues($0.map { Float80($0) }) }
            XCTAssertNil(values.lazy.compactMap { self.violation(network, symbolic, $0) }.first, "trial \(trial)")
            for (s, i) in zip(symbolic.nodes, interval.nodes) {
                for j in s.lower.indices {
                    XCTAssertGreaterThanOrEqual(s.lower[j], i.lower[j])
                    XCTAssertLessThanOrEqual(s.upper[j], i.upper[j])
                }
            }
            // Fix the phases of the first ReLU layer as at one sample: bounds hold at the samples
            // that agree.
            let pattern = activationPattern(network, input: points[0])
            var assignment = PhaseAssignment(network: network)
            for (i, phase) in pattern[0].enumerated() where i % 2 == 0 { assignment.phases[0][i] = phase }
            let constrained = propagator.bounds(box: box, assignment: assignment, method: .symbolic)
            XCTAssertFalse(constrained.isInfeasible, "the sample itself agrees with the assignment")
            let agreeing = values.filter { agrees(network, values: $0, with: assignment) }
            XCTAssertFalse(agreeing.isEmpty)
            XCTAssertNil(agreeing.lazy.compactMap { self.violation(network, constrained, $0) }.first, "trial \(trial)")
        }
    }

    /// Stopped and full back-substitution of every neuron of every pre-activation node: both
    /// sound; where the stopped one leaves the sign open it is at least as tight; and some pairs
    /// really stop early (their stable partner row ends looser), so the path is exercised.
    func testStoppedPairsAreSoundAndUndecidedOnesAreNotLooser() {
        var rng = SplitMix64(seed: 12)
        var stoppedEarly = 0
        for trial in 0..<12 {
            let network = Self.residualConvolutional(seed: UInt64(800 + trial))
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.1...0.6)
            let bounds = BoundPropagator(network: network).bounds(box: box, method: .symbolic)
            let points = samplePoints(box, count: 500, rng: &rng)
            let values: [[[Float80]]] = points.map { network.nodeValues($0.map { Float80($0) }) }
            for relu in network.reluNodes {
                let node = network.nodes[relu].inputs[0]
                let n = network.nodes[node].size
                var rows = [Double](repeating: 0, count: 2 * n * n)
                for i in 0..<n {
                    rows[(2 * i) * n + i] = 1
                    rows[(2 * i + 1) * n + i] = -1
                }
                var c = context(network, bounds)
                let full = c.lowerBounds(start: node, rows: rows, rowCount: 2 * n)
                let stopped = c.lowerBounds(start: node, rows: rows, rowCount: 2 * n, stopPairsAtDecision: true)
                for i in 0..<n {
                    let unsound = values.filter {
                        Float80(stopped[2 * i]) > $0[node][i] || Float80(stopped[2 * i + 1]) > -$0[node][i]
                            || Float80(full[2 * i]) > $0[node][i] || Float80(full[2 * i + 1]) > -$0[node][i]
                    }
                    XCTAssertTrue(unsound.isEmpty, "trial \(trial) node \(node) neuron \(i)")
                    let tolerance = 1e-12 * (1 + abs(full[2 * i]) + abs(full[2 * i + 1]))
                    if stopped[2 * i] < 0 && stopped[2 * i + 1] < 0 {
                        XCTAssertGreaterThanOrEqual(stopped[2 * i], full[2 * i] - tolerance)
                        XCTAssertGreaterThanOrEqual(stopped[2 * i + 1], full[2 * i + 1] - tolerance)
                    } else if min(stopped[2 * i], stopped[2 * i + 1]) < min(full[2 * i], full[2 * i + 1]) - tolerance {
                        stoppedEarly += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(stoppedEarly, 0, "no pair stopped before the input: the early stop went untested")
    }

    /// Intermediate bounds started from neurons (`unitPairLowerBounds`, whose first step through a
    /// dense or convolution node skips the unit rows) equal, to the bit, those started from the
    /// unit rows written out: dense, convolutional and residual networks (whose `add` nodes take
    /// the written-out path), every pre-activation node and the output, an unordered subset of
    /// neurons, with and without stopping pairs early.
    func testUnitPairStartEqualsWrittenOutUnitRows() {
        var rng = SplitMix64(seed: 21)
        var compared = 0
        for trial in 0..<9 {
            let network: Network
            switch trial % 3 {
            case 0: network = TestNetworks.randomDense(widths: [5, 9, 8, 7, 3], seed: UInt64(900 + trial))
            case 1: network = TestNetworks.randomConvolutional(seed: UInt64(900 + trial))
            default: network = Self.residualConvolutional(seed: UInt64(900 + trial))
            }
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.1...0.8)
            let bounds = BoundPropagator(network: network).bounds(box: box, method: .symbolic)
            for node in network.reluNodes.map({ network.nodes[$0].inputs[0] }) + [network.output] {
                let n = network.nodes[node].size
                let neurons = Array((0..<n).shuffled(using: &rng).prefix(max(1, n / 2)))
                var rows = [Double](repeating: 0, count: 2 * neurons.count * n)
                for (q, i) in neurons.enumerated() {
                    rows[(2 * q) * n + i] = 1
                    rows[(2 * q + 1) * n + i] = -1
                }
                for stop in [false, true] {
                    var written = context(network, bounds), direct = context(network, bounds)
                    let expected = written.lowerBounds(start: node, rows: rows, rowCount: 2 * neurons.count,
                                                       stopPairsAtDecision: stop)
                    let got = direct.unitPairLowerBounds(start: node, neurons: neurons, stopPairsAtDecision: stop)
                    XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "trial \(trial) node \(node) stop \(stop)")
                    compared += got.count
                }
            }
        }
        XCTAssertGreaterThan(compared, 0)
    }

    /// The root-region memo serves only exactly the remembered region with nothing fixed: a new
    /// box, a fixed phase or custom slopes get freshly computed bounds.
    func testRootMemoNeverServesAnotherRegion() {
        func same(_ x: NetworkBounds, _ y: NetworkBounds) -> Bool { x.nodes == y.nodes && x.isInfeasible == y.isInfeasible }
        var rng = SplitMix64(seed: 13)
        let network = Self.residualConvolutional(seed: 900)
        let shared = BoundPropagator(network: network)
        let a = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.1...0.6)
        var b = a
        b.upper[5] = b.lower[5]   // a sub-box: different bounds, same shape
        let first = shared.bounds(box: a)
        XCTAssertTrue(same(shared.bounds(box: a), first))
        XCTAssertTrue(same(shared.bounds(box: a, assignment: PhaseAssignment(network: network)), first))
        XCTAssertTrue(same(shared.bounds(box: b), BoundPropagator(network: network).bounds(box: b)))
        XCTAssertFalse(same(shared.bounds(box: b), first))
        var assignment = PhaseAssignment(network: network)
        assignment.phases[1][3] = .inactive
        XCTAssertTrue(same(shared.bounds(box: b, assignment: assignment),
                       BoundPropagator(network: network).bounds(box: b, assignment: assignment)))
        let slopes = network.reluNodes.map { [Double](repeating: 0.5, count: network.nodes[$0].size) }
        XCTAssertTrue(same(shared.bounds(box: b, assignment: nil, method: .symbolic, lowerSlopes: slopes),
                       BoundPropagator(network: network).bounds(box: b, assignment: nil, method: .symbolic, lowerSlopes: slopes)))
        XCTAssertTrue(same(shared.bounds(box: b, method: .interval), BoundPropagator(network: network).bounds(box: b, method: .interval)))
    }
}
