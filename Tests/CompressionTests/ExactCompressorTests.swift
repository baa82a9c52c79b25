import XCTest
import LPAbstraction
import Network
@testable import Compression

final class ExactCompressorTests: XCTestCase {
    /// A seeded generator so failures reproduce.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Builds `inputs → sizes… → outputs` with weights in [-1, 1] and zero bias.
    func chain(_ sizes: [Int], rng: inout SplitMix) -> Network {
        var nodes = [Node(operation: .input, inputs: [], shape: [sizes[0]], name: "input")]
        for k in 1..<sizes.count {
            let w = Matrix(rows: sizes[k], columns: sizes[k - 1],
                           values: (0..<(sizes[k] * sizes[k - 1])).map { _ in Double.random(in: -1...1, using: &rng) })
            nodes.append(Node(operation: .dense(DenseLayer(weights: w, bias: [Double](repeating: 0, count: sizes[k]))),
                              inputs: [nodes.count - 1], shape: [sizes[k]], name: "fc\(k)"))
            if k < sizes.count - 1 { nodes.append(Node(operation: .relu, inputs: [nodes.count - 1], shape: [sizes[k]])) }
        }
        return Network(nodes: nodes, output: nodes.count - 1)
    }

    func dense(_ net: Network, _ node: Int) -> DenseLayer {
        guard case .dense(let d) = net.nodes[node].operation else { fatalError("node \(node) is not dense") }
        return d
    }

    func setDense(_ net: inout Network, _ node: Int, _ d: DenseLayer) { net.nodes[node].operation = .dense(d) }

    func maxDifference(_ a: Network, _ b: Network, box: ClosedRange<Double>, samples: Int, rng: inout SplitMix) -> Double {
        var worst = 0.0
        for _ in 0..<samples {
            let x = (0..<a.inputSize).map { _ in Double.random(in: box, using: &rng) }
            for (u, v) in zip(a.evaluate(x), b.evaluate(x)) { worst = max(worst, abs(u - v)) }
        }
        return worst
    }

    /// On [0,1]^n with non-negative first-layer weights, a bias of +10 makes a neuron active and
    /// −10·(n+1) inactive everywhere; a scaled copy of an active row is linearly dependent.
    func testRemovesInactiveFoldsDependentActiveAndKeepsTheFunction() throws {
        var rng = SplitMix(state: 7)
        var net = chain([6, 8, 5, 3], rng: &rng)
        var first = dense(net, 1)
        for i in 0..<8 { for j in 0..<6 { first.weights[i, j] = abs(first.weights[i, j]) } }
        first.bias[0] = 10; first.bias[1] = 10; first.bias[2] = 10
        for j in 0..<6 { first.weights[2, j] = 2.5 * first.weights[0, j] - first.weights[1, j] }
        first.bias[2] = 50 // stays active: its row is a combination of rows 0 and 1, its bias is not
        first.bias[3] = -70; first.bias[4] = -70
        setDense(&net, 1, first)
        var stable = PhaseAssignment(network: net)
        stable.phases[0] = [.active, .active, .active, .inactive, .inactive, nil, nil, nil]
        let result = try ExactCompressor().compress(net, stable: stable)
        XCTAssertEqual(result.layers[0].removedInactive, 2)
        XCTAssertEqual(result.layers[0].foldedActive, 1)
        XCTAssertEqual(result.layers[0].keptActive, 2)
        XCTAssertEqual(result.layers[0].neuronsAfter, 5)
        XCTAssertEqual(result.network.reluCount, 5 + 5)
        XCTAssertLessThan(result.parametersAfter, result.parametersBefore)
        try result.network.validate()
        XCTAssertLessThan(maxDifference(net, result.network, box: 0...1, samples: 2000, rng: &rng), 1e-9)
    }

    func testMergesAnEntirelyActiveLayerWhenSmaller() throws {
        var rng = SplitMix(state: 11)
        var net = chain([3, 20, 2], rng: &rng)
        var first = dense(net, 1)
        for i in 0..<20 { first.bias[i] = 10 } // |w·x| ≤ 3 on [0,1]^3
        setDense(&net, 1, first)
        var stable = PhaseAssignment(network: net)
        stable.phases[0] = [Phase?](repeating: .active, count: 20)
        let result = try ExactCompressor().compress(net, stable: stable)
        XCTAssertTrue(result.layers[0].merged)
        XCTAssertEqual(result.network.reluCount, 0)
        XCTAssertEqual(result.network.nodes.count, 2)
        XCTAssertLessThan(maxDifference(net, result.network, box: 0...1, samples: 500, rng: &rng), 1e-9)
    }

    func testEntirelyInactiveLayerGivesAConstantNetwork() throws {
        var rng = SplitMix(state: 3)
        var net = chain([4, 5, 6, 2], rng: &rng)
        var first = dense(net, 1)
        for i in 0..<5 { first.bias[i] = -10 }
        setDense(&net, 1, first)
        var second = dense(net, 3)
        second.bias = [0.5, -0.25, 1, 2, -3, 0.125]
        setDense(&net, 3, second)
        var stable = PhaseAssignment(network: net)
        stable.phases[0] = [Phase?](repeating: .inactive, count: 5)
        let result = try ExactCompressor().compress(net, stable: stable)
        XCTAssertTrue(result.isConstant)
        XCTAssertEqual(result.network.reluCount, 0)
        XCTAssertLessThan(maxDifference(net, result.network, box: 0...1, samples: 200, rng: &rng), 1e-12)
    }

    func testNothingStableChangesNothing() throws {
        var rng = SplitMix(state: 5)
        let net = chain([5, 7, 7, 3], rng: &rng)
        let result = try ExactCompressor().compress(net, stable: PhaseAssignment(network: net))
        XCTAssertEqual(result.parametersAfter, result.parametersBefore)
        XCTAssertEqual(maxDifference(net, result.network, box: -1...1, samples: 100, rng: &rng), 0)
    }

    func testRejectsAClassificationOfAnotherShape() throws {
        var rng = SplitMix(state: 1)
        let net = chain([3, 4, 2], rng: &rng)
        let other = chain([3, 5, 2], rng: &rng)
        XCTAssertThrowsError(try ExactCompressor().compress(net, stable: PhaseAssignment(network: other)))
    }

    func testPivotedQRFindsTheRankOfDependentColumns() {
        // Columns: a, b, a + 2b, 3a → rank 2.
        let a = [1.0, 2, 0, -1], b = [0.5, -1, 3, 2]
        var m = Matrix(rows: 4, columns: 4)
        for i in 0..<4 { m[i, 0] = a[i]; m[i, 1] = b[i]; m[i, 2] = a[i] + 2 * b[i]; m[i, 3] = 3 * a[i] }
        XCTAssertEqual(PivotedQR(m, relativeTolerance: 1e-10).rank, 2)
        XCTAssertEqual(PivotedQR(.identity(5), relativeTolerance: 1e-10).rank, 5)
    }
}
