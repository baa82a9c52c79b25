import XCTest
@testable import Network

/// The backward pass of ``NetworkGradient`` seeded at an inner node (a ReLU pre-activation),
/// against central finite differences; the output-seeded pass is covered by the falsifier's tests.
final class NetworkGradientSeedTests: XCTestCase {
    /// input(3) → dense(4) → relu → dense(4) → relu → add(with the first relu) → dense(2).
    func residualNetwork() -> Network {
        var state: UInt64 = 5
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        func dense(_ rows: Int, _ columns: Int, reading input: Int) -> Node {
            Node(operation: .dense(DenseLayer(weights: Matrix(rows: rows, columns: columns, values: (0..<(rows * columns)).map { _ in next() }),
                                              bias: (0..<rows).map { _ in 0.3 * next() })),
                 inputs: [input], shape: [rows])
        }
        let nodes = [Node(operation: .input, inputs: [], shape: [3]),
                     dense(4, 3, reading: 0), Node(operation: .relu, inputs: [1], shape: [4]),
                     dense(4, 4, reading: 2), Node(operation: .relu, inputs: [3], shape: [4]),
                     Node(operation: .add, inputs: [4, 2], shape: [4]),
                     dense(2, 4, reading: 5)]
        return Network(nodes: nodes, output: 6)
    }

    func testPreActivationGradientMatchesFiniteDifferences() throws {
        let network = residualNetwork()
        try network.validate()
        var engine = NetworkGradient(network: network)
        let x = [0.21, -0.37, 0.52]
        let h = 1e-6
        for node in [1, 3, 5] {
            // Forward only as far as needed: the pass seeded at `node` must not read later nodes.
            engine.forward(x, through: node)
            XCTAssertEqual(engine.computedThrough, node)
            XCTAssertEqual(engine.values(node: node), network.nodeValues(x)[node])
            for index in 0..<network.nodes[node].size {
                var gradient: [Double] = []
                engine.backward(from: node, index: index, into: &gradient)
                for j in 0..<3 {
                    var up = x, down = x
                    up[j] += h
                    down[j] -= h
                    let numeric = (network.nodeValues(up)[node][index] - network.nodeValues(down)[node][index]) / (2 * h)
                    XCTAssertEqual(gradient[j], numeric, accuracy: 1e-6, "node \(node) value \(index) input \(j)")
                }
            }
        }
    }

    func testSeedAtTheOutputEqualsTheOutputSeed() {
        let network = residualNetwork()
        var engine = NetworkGradient(network: network)
        engine.forward([0.4, 0.1, -0.9])
        var a: [Double] = [], b: [Double] = [], c: [Double] = []
        engine.backward(outputSeed: [2, -1], into: &a)
        engine.backward(from: network.output, seed: [2, -1], into: &b)
        engine.backward(from: network.output, index: 1, into: &c)
        XCTAssertEqual(a, b)
        var d: [Double] = []
        engine.backward(from: network.output, index: 0, into: &d)
        for j in 0..<3 { XCTAssertEqual(a[j], 2 * d[j] - c[j], accuracy: 1e-12) }
        // The engine reorders sums, so agreement is up to rounding.
        for (a, b) in zip(engine.outputs, network.evaluate([0.4, 0.1, -0.9])) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }
}
