import XCTest
@testable import Network

/// The IR the importer builds for the benchmark networks: layer structure kept, nothing extra.
final class ONNXStructureTests: XCTestCase {
    func reluLayerSizes(_ network: Network) -> [Int] { network.reluNodes.map { network.nodes[$0].size } }

    func testACASXuIsSixReLULayersOfFifty() throws {
        let network = try ONNXTestSupport.sharedNetwork("benchmarks/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx")
        XCTAssertEqual(reluLayerSizes(network), Array(repeating: 50, count: 6))
        XCTAssertEqual(network.reluCount, 300)
        XCTAssertEqual(network.nodes.filter { $0.operation.kindName == "dense" }.count, 7)
        XCTAssertEqual(network.nodes.count, 1 + 7 + 6)
        XCTAssertEqual(network.inputName, "input")
        XCTAssertEqual(network.outputName, "linear_7_Add")
        XCTAssertEqual(network.onnxInputShape, [1, 1, 1, 5])
        XCTAssertEqual(network.onnxOutputShape, [1, 5])
    }

    func testMNISTFullyConnected() throws {
        let network = try ONNXTestSupport.sharedNetwork("benchmarks/mnistfc/onnx/mnist-net_256x2.onnx")
        XCTAssertEqual(network.reluCount, 512)
        XCTAssertEqual(reluLayerSizes(network), [256, 256])
        XCTAssertEqual(network.onnxInputShape, [1, 784, 1])
        XCTAssertEqual(network.inputSize, 784)
        XCTAssertEqual(network.outputSize, 10)
    }

    func testResNetHasResidualAdds() throws {
        let network = try ONNXTestSupport.sharedNetwork("benchmarks/cifar10_resnet/onnx/resnet_2b.onnx")
        XCTAssertEqual(network.nodes.filter { $0.operation.kindName == "add" }.count, 2)
        XCTAssertEqual(network.nodes.filter { $0.operation.kindName == "conv" }.count, 6)
        XCTAssertEqual(network.nodes.filter { $0.operation.kindName == "dense" }.count, 2)
        XCTAssertEqual(network.nodes[0].shape, [3, 32, 32])
    }

    func testOval21BaseReLUCount() throws {
        let network = try ONNXTestSupport.sharedNetwork("benchmarks/oval21/onnx/cifar_base_kw.onnx")
        XCTAssertEqual(network.reluCount, 3172)
        XCTAssertEqual(network.nodes.map(\.operation.kindName), ["input", "conv", "relu", "conv", "relu", "dense", "relu", "dense"])
    }

    func testNanoHasAOneDimensionalInput() throws {
        let network = try ONNXTestSupport.sharedNetwork("benchmarks/test/onnx/test_nano.onnx")
        XCTAssertEqual(network.onnxInputShape, [1])
        XCTAssertEqual(network.onnxOutputShape, [1])
        XCTAssertEqual(network.reluCount, 1)
        XCTAssertEqual(network.evaluate([2.0]), [1.0])
        XCTAssertEqual(network.evaluate([-2.0]), [0.0])
    }

    func testCompressionNetworkLayerSizes() throws {
        let network = try ONNXTestSupport.sharedNetwork("compression/cifar10_fc_400_400_l1_1.75e-4_pruned.onnx")
        XCTAssertEqual(reluLayerSizes(network), [116, 248])
        XCTAssertEqual(network.parameterCount, 387_974)
    }
}
