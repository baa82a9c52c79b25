import XCTest
import Network
@testable import Verifier

/// Small IR networks built in code for the falsifier, checker and gradient tests.
enum FalsifierFixtures {
    /// Uniform values in `[-scale, scale)` from a seeded stream.
    static func randomValues(_ count: Int, scale: Double = 1, generator: inout SplitMix64) -> [Double] {
        (0..<count).map { _ in (2 * generator.nextUnit() - 1) * scale }
    }

    /// A dense layer node with random weights reading node `input` of size `inputs`.
    static func denseNode(_ inputs: Int, _ outputs: Int, reading input: Int, generator: inout SplitMix64) -> Node {
        let weights = Matrix(rows: outputs, columns: inputs,
                             values: randomValues(outputs * inputs, scale: 1 / Double(inputs).squareRoot(), generator: &generator))
        let bias = randomValues(outputs, scale: 0.3, generator: &generator)
        return Node(operation: .dense(DenseLayer(weights: weights, bias: bias)), inputs: [input], shape: [outputs])
    }

    /// A fully connected ReLU network with the given layer widths (first = inputs, last = outputs).
    static func denseNetwork(_ widths: [Int], seed: UInt64) -> Network {
        var generator = SplitMix64(seed: seed)
        var nodes = [Node(operation: .input, inputs: [], shape: [widths[0]])]
        for layer in 1..<widths.count {
            nodes.append(denseNode(widths[layer - 1], widths[layer], reading: nodes.count - 1, generator: &generator))
            if layer < widths.count - 1 {
                nodes.append(Node(operation: .relu, inputs: [nodes.count - 1], shape: [widths[layer]]))
            }
        }
        return Network(nodes: nodes, output: nodes.count - 1)
    }

    /// Two convolutions (strided, padded, grouped, dilated) with ReLUs, then a dense head.
    static func convolutionNetwork(seed: UInt64) -> Network {
        var generator = SplitMix64(seed: seed)
        var nodes = [Node(operation: .input, inputs: [], shape: [2, 7, 6])]
        let first = Convolution(weights: randomValues(4 * 1 * 3 * 3, scale: 0.5, generator: &generator),
                                bias: randomValues(4, scale: 0.2, generator: &generator),
                                inputShape: [2, 7, 6], outChannels: 4, kernel: (3, 3), strides: (2, 1),
                                pads: (1, 0, 1, 2), dilations: (1, 1), groups: 2)
        nodes.append(Node(operation: .convolution(first), inputs: [0], shape: first.outputShape))
        nodes.append(Node(operation: .relu, inputs: [1], shape: first.outputShape))
        let second = Convolution(weights: randomValues(3 * 4 * 2 * 2, scale: 0.5, generator: &generator),
                                 bias: randomValues(3, scale: 0.2, generator: &generator),
                                 inputShape: first.outputShape, outChannels: 3, kernel: (2, 2), strides: (1, 2),
                                 pads: (0, 1, 1, 0), dilations: (2, 1), groups: 1)
        nodes.append(Node(operation: .convolution(second), inputs: [2], shape: second.outputShape))
        nodes.append(Node(operation: .relu, inputs: [3], shape: second.outputShape))
        let flat = second.outputShape.reduce(1, *)
        nodes.append(denseNode(flat, 3, reading: 4, generator: &generator))
        return Network(nodes: nodes, output: nodes.count - 1)
    }

    /// A residual block (`relu(W2 relu(W1 x) + relu(W1 x))`), an elementwise affine node, and a head.
    static func residualNetwork(seed: UInt64) -> Network {
        var generator = SplitMix64(seed: seed)
        var nodes = [Node(operation: .input, inputs: [], shape: [5])]
        nodes.append(denseNode(5, 6, reading: 0, generator: &generator))                 // 1
        nodes.append(Node(operation: .relu, inputs: [1], shape: [6]))                     // 2
        nodes.append(denseNode(6, 6, reading: 2, generator: &generator))                 // 3
        nodes.append(Node(operation: .add, inputs: [3, 2], shape: [6]))                   // 4
        nodes.append(Node(operation: .elementwiseAffine(scale: randomValues(6, generator: &generator),
                                                        shift: randomValues(6, scale: 0.1, generator: &generator)),
                          inputs: [4], shape: [6]))                                       // 5
        nodes.append(Node(operation: .relu, inputs: [5], shape: [6]))                     // 6
        nodes.append(Node(operation: .add, inputs: [6, 6], shape: [6]))                   // 7: same node twice
        nodes.append(denseNode(6, 2, reading: 7, generator: &generator))                 // 8
        return Network(nodes: nodes, output: nodes.count - 1)
    }
}

final class NetworkGradientTests: XCTestCase {
    func testFixturesAreValid() throws {
        try FalsifierFixtures.denseNetwork([4, 8, 8, 3], seed: 1).validate()
        try FalsifierFixtures.convolutionNetwork(seed: 2).validate()
        try FalsifierFixtures.residualNetwork(seed: 3).validate()
    }

    func testForwardMatchesNetworkEvaluation() {
        for network in [FalsifierFixtures.denseNetwork([4, 8, 8, 3], seed: 1),
                        FalsifierFixtures.convolutionNetwork(seed: 2),
                        FalsifierFixtures.residualNetwork(seed: 3)] {
            var engine = NetworkGradient(network: network)
            var generator = SplitMix64(seed: 9)
            for _ in 0..<5 {
                let x = FalsifierFixtures.randomValues(network.inputSize, generator: &generator)
                engine.forward(x)
                let expected: [Double] = network.evaluate(x)
                XCTAssertEqual(engine.outputs.count, expected.count)
                for (a, b) in zip(engine.outputs, expected) { XCTAssertEqual(a, b, accuracy: 1e-12) }
            }
        }
    }

    func testDenseGradientMatchesFiniteDifferences() {
        checkGradient(FalsifierFixtures.denseNetwork([6, 10, 10, 4], seed: 11))
    }

    func testConvolutionGradientMatchesFiniteDifferences() {
        checkGradient(FalsifierFixtures.convolutionNetwork(seed: 12))
    }

    func testResidualGradientMatchesFiniteDifferences() {
        checkGradient(FalsifierFixtures.residualNetwork(seed: 13))
    }

    func testGradientOfIdentityNetworkIsTheSeed() {
        let network = Network(nodes: [Node(operation: .input, inputs: [], shape: [3])], output: 0)
        var engine = NetworkGradient(network: network)
        engine.forward([1, 2, 3])
        var gradient: [Double] = []
        engine.backward(outputSeed: [0.5, -1, 2], into: &gradient)
        XCTAssertEqual(gradient, [0.5, -1, 2])
    }

    /// Central differences of `seed · f(x)` against the reverse-mode gradient, at random points.
    /// ReLU kinks could spoil a difference quotient, but with seeded random points none lies
    /// within `h` of one.
    private func checkGradient(_ network: Network, file: StaticString = #filePath, line: UInt = #line) {
        var engine = NetworkGradient(network: network)
        var generator = SplitMix64(seed: 77)
        var gradient: [Double] = []
        let h = 1e-6
        for _ in 0..<4 {
            let x = FalsifierFixtures.randomValues(network.inputSize, generator: &generator)
            let seed = FalsifierFixtures.randomValues(network.outputSize, generator: &generator)
            engine.forward(x)
            engine.backward(outputSeed: seed, into: &gradient)
            XCTAssertEqual(gradient.count, network.inputSize, file: file, line: line)
            var nonZero = 0
            for i in 0..<network.inputSize {
                var plus = x, minus = x
                plus[i] += h
                minus[i] -= h
                let fPlus = zip(seed, network.evaluate(plus) as [Double]).reduce(0) { $0 + $1.0 * $1.1 }
                let fMinus = zip(seed, network.evaluate(minus) as [Double]).reduce(0) { $0 + $1.0 * $1.1 }
                let difference = (fPlus - fMinus) / (2 * h)
                XCTAssertEqual(gradient[i], difference, accuracy: 1e-6 * (1 + abs(difference)),
                               "input \(i)", file: file, line: line)
                if gradient[i] != 0 { nonZero += 1 }
            }
            // A gradient of all zeros would pass trivially; the fixtures keep some ReLUs active.
            XCTAssertGreaterThan(nonZero, 0, file: file, line: line)
        }
    }
}
