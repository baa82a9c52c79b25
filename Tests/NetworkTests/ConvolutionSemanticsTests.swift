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
}
