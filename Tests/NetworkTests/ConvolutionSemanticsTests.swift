import XCTest
@testable import Network

/// Forward evaluation of convolutions against values worked out by hand.
final class ConvolutionSemanticsTests: XCTestCase {
    /// The 3×3 image 1…9 in one channel.
    let image: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9]

    func evaluate(_ conv: Convolution, _ input: [Double]) throws -> [Double] {
        let network = Network(nodes: [
            Node(operation: .input, inputs: [], shape: conv.inputShape),
            Node(operation: .convolution(conv), inputs: [0], shape: conv.outputShape),
        ], output: 1)
        try network.validate()
        return network.evaluate(input)
    }

    func testPlainConvolution() throws {
        let conv = Convolution(weights: [1, 1, 1, 1], bias: [0], inputShape: [1, 3, 3], outChannels: 1, kernel: (2, 2))
        XCTAssertEqual(conv.outputShape, [1, 2, 2])
        XCTAssertEqual(try evaluate(conv, image), [12, 16, 24, 28])
    }

    func testPaddingAndStride() throws {
        // Padded to 5×5 with zeros, windows at rows/cols {-1, 0} and {1, 2}.
        let conv = Convolution(weights: [1, 1, 1, 1], bias: [0], inputShape: [1, 3, 3], outChannels: 1, kernel: (2, 2),
                               strides: (2, 2), pads: (1, 1, 1, 1))
        XCTAssertEqual(conv.outputShape, [1, 2, 2])
        XCTAssertEqual(try evaluate(conv, image), [1, 5, 11, 28])
    }

    func testAsymmetricPadding() throws {
        // Only a top row of zeros: windows over rows {-1,0}, {0,1}, {1,2} and columns {0,1}, {1,2}.
        let conv = Convolution(weights: [1, 1, 1, 1], bias: [0], inputShape: [1, 3, 3], outChannels: 1, kernel: (2, 2),
                               pads: (1, 0, 0, 0))
        XCTAssertEqual(conv.outputShape, [1, 3, 2])
        XCTAssertEqual(try evaluate(conv, image), [3, 5, 12, 16, 24, 28])
    }

    func testDilation() throws {
        // A 2×2 kernel dilated by 2 touches the four corners.
        let conv = Convolution(weights: [1, 1, 1, 1], bias: [0.5], inputShape: [1, 3, 3], outChannels: 1, kernel: (2, 2),
                               dilations: (2, 2))
        XCTAssertEqual(conv.outputShape, [1, 1, 1])
        XCTAssertEqual(try evaluate(conv, image), [20.5])
    }

    func testGroups() throws {
        // Two groups of one channel each: channel 0 → 2x + 0.5, channel 1 (= 10·image) → 3x − 1.
        let conv = Convolution(weights: [2, 3], bias: [0.5, -1], inputShape: [2, 3, 3], outChannels: 2, kernel: (1, 1),
                               groups: 2)
        let output = try evaluate(conv, image + image.map { 10 * $0 })
        XCTAssertEqual(output, image.map { 2 * $0 + 0.5 } + image.map { 30 * $0 - 1 })
    }

    /// The fused centre-radius sums (interval bounds of a convolution) are, to the bit, the three
    /// separate convolutions they replace: the same products in the same order.
    func testCentreRadiusSumsEqualThreeForwardPasses() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        let shape = [4, 7, 6]
        let inputCount = shape.reduce(1, *)
        for (groups, strides, pads, dilations) in [(1, (1, 1), (0, 0, 0, 0), (1, 1)), (2, (2, 1), (1, 0, 2, 1), (1, 2))] {
            let outChannels = 6
            let weights = (0..<(outChannels * (shape[0] / groups) * 3 * 2)).map { _ in next() }
            let conv = Convolution(weights: weights, bias: [Double](repeating: 0, count: outChannels), inputShape: shape,
                                   outChannels: outChannels, kernel: (3, 2), strides: strides, pads: pads,
                                   dilations: dilations, groups: groups)
            let geometry = ConvolutionGeometry(conv)
            let centre = (0..<inputCount).map { _ in next() }
            let radius = (0..<inputCount).map { _ in Swift.abs(next()) }
            let magnitude = centre.indices.map { Swift.abs(centre[$0]) + radius[$0] }
            let sums = geometry.centreRadiusSums(centre: centre, radius: radius, magnitude: magnitude, weights: weights)
            let absWeights = weights.map { Swift.abs($0) }
            XCTAssertEqual(sums.centre, geometry.forward(centre, weights: weights))
            XCTAssertEqual(sums.radius, geometry.forward(radius, weights: absWeights))
            XCTAssertEqual(sums.magnitude, geometry.forward(magnitude, weights: absWeights))
        }
    }
}
