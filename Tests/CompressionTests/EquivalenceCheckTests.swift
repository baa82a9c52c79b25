import XCTest
import LPAbstraction
import Network
@testable import Compression

final class EquivalenceCheckTests: XCTestCase {
    /// `x ↦ Σ w_j x_j + b` as a one-layer network.
    func linear(_ w: [Double], bias: Double) -> Network {
        let n = w.count
        return Network(nodes: [Node(operation: .input, inputs: [], shape: [n]),
                               Node(operation: .dense(DenseLayer(weights: Matrix(rows: 1, columns: n, values: w), bias: [bias])),
                                    inputs: [0], shape: [1])],
                       output: 1)
    }

    /// `inputs → sizes… → outputs` with weights in [-1, 1] and small biases.
    func chain(_ sizes: [Int], rng: inout ExactCompressorTests.SplitMix) -> Network {
        var nodes = [Node(operation: .input, inputs: [], shape: [sizes[0]])]
        for k in 1..<sizes.count {
            let w = Matrix(rows: sizes[k], columns: sizes[k - 1],
                           values: (0..<(sizes[k] * sizes[k - 1])).map { _ in Double.random(in: -1...1, using: &rng) })
            let b = (0..<sizes[k]).map { _ in Double.random(in: -0.3...0.3, using: &rng) }
            nodes.append(Node(operation: .dense(DenseLayer(weights: w, bias: b)), inputs: [nodes.count - 1], shape: [sizes[k]]))
            if k < sizes.count - 1 { nodes.append(Node(operation: .relu, inputs: [nodes.count - 1], shape: [sizes[k]])) }
        }
        return Network(nodes: nodes, output: nodes.count - 1)
    }

    func testDifferenceNetworkComputesFMinusG() throws {
        var rng = ExactCompressorTests.SplitMix(state: 1)
        let f = chain([3, 5, 4, 2], rng: &rng)
        let g = chain([3, 6, 2], rng: &rng)
        let d = try Network.difference(f, g)
        XCTAssertEqual(d.reluCount, f.reluCount + g.reluCount)
        let points: [[Double]] = [[0.1, -0.4, 0.9], [1, 1, 1], [-0.3, 0.2, 0.05]]
        for x in points {
            let (y, a, b) = (d.evaluate(x), f.evaluate(x), g.evaluate(x))
            for i in 0..<2 { XCTAssertEqual(y[i], a[i] - b[i], accuracy: 1e-12) }
        }
        XCTAssertThrowsError(try Network.difference(f, linear([1, 1, 1], bias: 0)))
    }

    /// f − g = Σ x_j over [0, 1]^12 peaks only at the all-ones vertex, which few random points
    /// approach; the sign-gradient attack walks straight to it.
    func testAttackFindsTheLargestDifferenceSamplingMisses() {
        let n = 12
        let f = linear([Double](repeating: 1, count: n), bias: 0)
        let g = linear([Double](repeating: 0, count: n), bias: 0)
        let box = Box(lower: [Double](repeating: 0, count: n), upper: [Double](repeating: 1, count: n))
        let check = EquivalenceCheck(original: f, compressed: g, box: box, samples: 20, seed: 3)
        XCTAssertEqual(check.attackedMaxAbsoluteDifference, Double(n), accuracy: 1e-12)
        XCTAssertLessThan(check.sampledMaxAbsoluteDifference, Double(n))
        XCTAssertEqual(check.maxAbsoluteDifference, Double(n), accuracy: 1e-12)
        XCTAssertEqual(check.worstInput, [Double](repeating: 1, count: n))
        XCTAssertEqual(check.attackedPoints, 2 * 3)
        let noAttack = EquivalenceCheck(original: f, compressed: g, box: box, samples: 20, seed: 3,
                                        attack: EquivalenceAttack(restarts: 0))
        XCTAssertEqual(noAttack.attackedPoints, 0)
        XCTAssertEqual(noAttack.attackedMaxAbsoluteDifference, 0)
    }
}
