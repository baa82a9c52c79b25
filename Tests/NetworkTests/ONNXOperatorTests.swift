import Foundation
import XCTest
@testable import Network

/// The small hand-made models of `scripts/make_operator_fixtures.py` (every operator variant and
/// folding path the benchmarks do not reach), against their onnxruntime outputs.
final class ONNXOperatorTests: XCTestCase {
    static let operatorsFolder = ONNXTestSupport.repoRoot.appendingPathComponent("Tests/NetworkFixtures/operators")

    struct Case: Decodable {
        var input: [Double]
        var output: [Double]
    }

    static func references() throws -> [String: [Case]] {
        let url = operatorsFolder.appendingPathComponent("references.json")
        return try JSONDecoder().decode([String: [Case]].self, from: Data(contentsOf: url))
    }

    static func load(_ name: String) throws -> Network {
        try Network.load(contentsOf: operatorsFolder.appendingPathComponent(name + ".onnx").path)
    }

    func testOperatorModelsMatchOnnxRuntime() throws {
        let references = try Self.references()
        XCTAssertEqual(references.count, 6)
        for (name, cases) in references.sorted(by: { $0.key < $1.key }) {
            let network = try Self.load(name)
            for c in cases {
                let double: [Double] = network.evaluate(c.input)
                let float: [Float] = network.evaluate(c.input.map { Float($0) })
                XCTAssertLessThan(ONNXTestSupport.relativeError(double, c.output), 1e-5, "\(name) (Double)")
                XCTAssertLessThan(ONNXTestSupport.relativeError(float.map(Double.init), c.output), 1e-5, "\(name) (Float)")
            }
        }
    }

    func kinds(_ network: Network) -> [String] { network.nodes.map(\.operation.kindName) }

    func testShiftBeforePaddedConvStaysAnElementwiseNode() throws {
        // Sub/Div on the input cannot fold backward (nothing precedes the input) nor forward into
        // a zero-padded conv (the border would see the shift), so one affine node must remain;
        // the batch norm after the conv folds back into it.
        let network = try Self.load("conv_block")
        XCTAssertEqual(kinds(network), ["input", "affine", "conv", "relu", "conv", "relu", "conv", "relu", "dense"])
        guard case .convolution(let c) = network.nodes[4].operation else { return XCTFail("expected a conv") }
        XCTAssertEqual(c.groups, 3)
        XCTAssertEqual(c.dilations.height, 2)
        XCTAssertEqual(c.strides.height, 2)
        XCTAssertEqual(c.pads.right, 0)
        XCTAssertEqual(c.pads.bottom, 1)
        XCTAssertEqual(network.nodes[6].shape, [4, 2, 3])
    }

    func testShiftBeforeUnpaddedConvFoldsIntoTheFilters() throws {
        let network = try Self.load("shift_before_unpadded_conv")
        XCTAssertEqual(kinds(network), ["input", "conv", "relu", "dense"])
        XCTAssertEqual(network.onnxInputShape, [1, 3, 5, 4])
        XCTAssertEqual(network.onnxOutputShape, [1, 5])
    }

    func testShiftBeforePaddedConvFoldsBackIntoThePrecedingDense() throws {
        let network = try Self.load("dense_then_padded_conv")
        XCTAssertEqual(kinds(network), ["input", "dense", "conv", "relu", "dense"])
        XCTAssertEqual(network.nodes[1].shape, [2, 2, 2])
    }

    func testReindexingOperatorsLeaveNoExtraLayers() throws {
        // The transpose is applied after the ReLU lazily and ends up in the Gemm's columns; the
        // concat constant, Mul and constant-minus-x fold into the Gemm too.
        let network = try Self.load("reindexing")
        XCTAssertEqual(kinds(network), ["input", "dense", "relu", "dense", "relu", "dense"])
    }

    func testResidualAndConcatOfTwoNodes() throws {
        let network = try Self.load("residual")
        XCTAssertTrue(kinds(network).contains("add"))
        XCTAssertEqual(network.reluCount, 5 + 5 + 5)
    }

    func testColumnInputWithTransposedGemm() throws {
        let network = try Self.load("column_input")
        XCTAssertEqual(network.onnxInputShape, [4, 1])
        XCTAssertEqual(network.onnxOutputShape, [2])
        XCTAssertEqual(network.inputSize, 4)
    }
}
