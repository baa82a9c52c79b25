import Foundation
import XCTest
@testable import Network

/// Bad input must give a ``NetworkError`` that names the file (and node), never a crash.
final class ONNXErrorTests: XCTestCase {
    let path = "/models/bad.onnx"

    /// Asserts that loading `data` fails with an error naming the file and matching `check`.
    func assertRejects(_ data: Data, _ check: (NetworkError) -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try Network(onnxData: data, path: path)
            XCTFail("loaded without error", file: file, line: line)
        } catch let error as NetworkError {
            XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(path), "error does not name the file: \(error)", file: file, line: line)
        } catch {
            XCTFail("not a NetworkError: \(error)", file: file, line: line)
        }
    }

    func isNotONNX(_ e: NetworkError) -> Bool { if case .notONNX = e { return true } else { return false } }
    func isInvalidGraph(_ e: NetworkError) -> Bool { if case .invalidGraph = e { return true } else { return false } }

    func realModelData() throws -> Data {
        try Data(contentsOf: ONNXOperatorTests.operatorsFolder.appendingPathComponent("conv_block.onnx"))
    }

    // MARK: - Not ONNX at all

    func testTruncatedFile() throws {
        let data = try realModelData()
        assertRejects(data.prefix(data.count / 2), isNotONNX)
    }

    func testRandomBytes() {
        var generator = SplitMix(seed: 42)
        for length in [1, 7, 100, 4096] {
            let bytes = Data((0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            assertRejects(bytes, { _ in true })
        }
    }

    func testEmptyFile() {
        assertRejects(Data(), { e in self.isNotONNX(e) && e.description.contains("empty") })
    }

    func testTextFile() {
        assertRejects(Data("(declare-const X_0 Real)\n(assert (<= X_0 1.0))\n".utf8), isNotONNX)
    }

    /// Seeded byte mutations of real models: each must load or throw, never trap.
    func testMutatedModelsNeverCrash() throws {
        var generator = SplitMix(seed: 7)
        var loaded = 0, rejected = 0
        for name in ["conv_block", "reindexing", "residual", "column_input", "shift_before_unpadded_conv",
                     "dense_then_padded_conv"] {
            let original = try Data(contentsOf: ONNXOperatorTests.operatorsFolder.appendingPathComponent(name + ".onnx"))
            for _ in 0..<300 {
                var bytes = [UInt8](original)
                for _ in 0..<(1 + Int(generator.next() % 4)) {
                    let position = Int(generator.next() % UInt64(bytes.count))
                    bytes[position] = UInt8(truncatingIfNeeded: generator.next())
                }
                do {
                    let network = try Network(onnxData: Data(bytes), path: path)
                    _ = network.evaluate([Double](repeating: 0.5, count: network.inputSize))
                    loaded += 1
                } catch is NetworkError {
                    rejected += 1
                }
            }
        }
        XCTAssertEqual(loaded + rejected, 1800)
        XCTAssertGreaterThan(rejected, 0)
    }

    func testMissingFile() {
        XCTAssertThrowsError(try Network.load(contentsOf: "/no/such/dir/model.onnx")) { error in
            guard case NetworkError.unreadableFile(let p, _)? = error as? NetworkError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, "/no/such/dir/model.onnx")
        }
    }

    // MARK: - Unsupported operators

    func testUnsupportedOperatorsNameTheNode() throws {
        for (file, node, op) in [("sigmoid", "the_sigmoid", "Sigmoid"), ("maxpool", "the_pool", "MaxPool")] {
            let url = ONNXOperatorTests.operatorsFolder.appendingPathComponent(file + ".onnx")
            XCTAssertThrowsError(try Network.load(contentsOf: url.path)) { error in
                guard case NetworkError.unsupportedOperator(let p, let n, let o, _)? = error as? NetworkError else {
                    return XCTFail("\(error)")
                }
                XCTAssertEqual(p, url.path)
                XCTAssertEqual(n, node)
                XCTAssertEqual(o, op)
                XCTAssertTrue("\(error)".contains(node))
            }
        }
    }

    func testProductOfTwoComputedTensorsIsRejected() throws {
        var model = Self.model(input: [1, 2])
        model.graph.node = [Self.node("Mul", ["x", "x"], ["y"], name: "square")]
        model.graph.output = [Self.valueInfo("y", [1, 2])]
        assertRejects(try model.serializedBytes(), { e in
            if case .unsupportedOperator(_, "square", "Mul", _) = e { return true } else { return false }
        })
    }

    // MARK: - Hostile or inconsistent graphs (built with the generated proto types)

    static func valueInfo(_ name: String, _ dims: [Int64]) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = 1
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = d
            return dim
        }
        tensor.shape = shape
        info.type.tensorType = tensor
        return info
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.input = inputs
        node.output = outputs
        node.name = name
        return node
    }

    static func tensor(_ name: String, dims: [Int64], floats: [Float] = [], raw: Data? = nil) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = 1
        t.dims = dims
        t.floatData = floats
        if let raw { t.rawData = raw }
        return t
    }

    /// `y = Gemm(x, w, b)` with input `x` of the given shape and the given initializers.
    static func model(input: [Int64], initializers: [Onnx_TensorProto] = []) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 13
        model.opsetImport = [opset]
        model.graph.input = [valueInfo("x", input)]
        model.graph.output = [valueInfo("y", [1, 2])]
        model.graph.initializer = initializers
        var gemm = node("Gemm", ["x", "w", "b"], ["y"], name: "fc")
        var transB = Onnx_AttributeProto()
        transB.name = "transB"
        transB.i = 1
        gemm.attribute = [transB]
        model.graph.node = [gemm]
        return model
    }

    func testWellFormedHandBuiltModelLoads() throws {
        let model = Self.model(input: [1, 2], initializers: [
            Self.tensor("w", dims: [2, 2], floats: [1, 2, 3, 4]), Self.tensor("b", dims: [2], floats: [0.5, -0.5]),
        ])
        let network = try Network(onnxData: try model.serializedBytes(), path: path)
        XCTAssertEqual(network.evaluate([1.0, 1.0]), [3.5, 6.5])
    }

    func testDoubleDataInitializer() throws {
        var w = Self.tensor("w", dims: [2, 2])
        w.dataType = 11
        w.doubleData = [1, 2, 3, 4]
        let model = Self.model(input: [1, 2], initializers: [w, Self.tensor("b", dims: [2], floats: [0, 0])])
        let network = try Network(onnxData: try model.serializedBytes(), path: path)
        XCTAssertEqual(network.evaluate([1.0, -1.0]), [-1, -1])
    }

    func testHugeDeclaredDims() throws {
        let huge = Self.model(input: [1, 2], initializers: [
            Self.tensor("w", dims: [1 << 40, 1 << 40]), Self.tensor("b", dims: [2], floats: [0, 0]),
        ])
        assertRejects(try huge.serializedBytes(), isInvalidGraph)
        let overflow = Self.model(input: [1, 2], initializers: [
            Self.tensor("w", dims: [1 << 31, 1 << 31, 1 << 31]), Self.tensor("b", dims: [2], floats: [0, 0]),
        ])
        assertRejects(try overflow.serializedBytes(), isInvalidGraph)
        assertRejects(try Self.model(input: [1, 1 << 40]).serializedBytes(), isInvalidGraph)
    }

    func testNegativeDims() throws {
        let model = Self.model(input: [1, 2], initializers: [
            Self.tensor("w", dims: [-2, 2], floats: [1, 2, 3, 4]), Self.tensor("b", dims: [2], floats: [0, 0]),
        ])
        assertRejects(try model.serializedBytes(), isInvalidGraph)
        assertRejects(try Self.model(input: [1, -2]).serializedBytes(), isInvalidGraph)
    }

    func testDataLengthMismatch() throws {
        let shortRaw = Self.model(input: [1, 2], initializers: [
            Self.tensor("w", dims: [2, 2], raw: Data(count: 15)), Self.tensor("b", dims: [2], floats: [0, 0]),
        ])
        assertRejects(try shortRaw.serializedBytes(), { e in self.isInvalidGraph(e) && e.description.contains("raw_data") })
        let shortFloats = Self.model(input: [1, 2], initializers: [
            Self.tensor("w", dims: [2, 2], floats: [1, 2, 3]), Self.tensor("b", dims: [2], floats: [0, 0]),
        ])
        assertRejects(try shortFloats.serializedBytes(), isInvalidGraph)
    }

    func testMissingInitializer() throws {
        let model = Self.model(input: [1, 2], initializers: [Self.tensor("b", dims: [2], floats: [0, 0])])
        assertRejects(try model.serializedBytes(), { e in e.description.contains("'w'") })
    }

    func testShapeMismatchNamesTheNode() throws {
        let model = Self.model(input: [1, 3], initializers: [
            Self.tensor("w", dims: [2, 2], floats: [1, 2, 3, 4]), Self.tensor("b", dims: [2], floats: [0, 0]),
        ])
        assertRejects(try model.serializedBytes(), { e in
            if case .invalidNode(_, "fc", "Gemm", _) = e { return true } else { return false }
        })
    }

    func testCycle() throws {
        var model = Self.model(input: [1, 2])
        model.graph.node = [
            Self.node("Relu", ["x", "b"], ["a"], name: "first"),
            Self.node("Relu", ["a"], ["b"], name: "second"),
            Self.node("Relu", ["b"], ["y"], name: "third"),
        ]
        assertRejects(try model.serializedBytes(), { e in self.isInvalidGraph(e) && e.description.contains("cycle") })
    }

    func testTwoRealInputs() throws {
        var model = Self.model(input: [1, 2])
        model.graph.input.append(Self.valueInfo("z", [1, 2]))
        model.graph.node = [Self.node("Add", ["x", "z"], ["y"], name: "sum")]
        assertRejects(try model.serializedBytes(), { e in self.isInvalidGraph(e) && e.description.contains("'z'") })
    }

    func testReshapeToAWrongSize() throws {
        var model = Self.model(input: [1, 4])
        var shape = Onnx_TensorProto()
        shape.name = "shape"
        shape.dataType = 7
        shape.dims = [1]
        shape.int64Data = [3]
        model.graph.initializer = [shape]
        model.graph.node = [Self.node("Reshape", ["x", "shape"], ["y"], name: "bad_reshape")]
        assertRejects(try model.serializedBytes(), { e in
            if case .invalidNode(_, "bad_reshape", "Reshape", _) = e { return true } else { return false }
        })
    }

    func testDivisionByAZeroConstant() throws {
        var model = Self.model(input: [1, 2], initializers: [Self.tensor("d", dims: [2], floats: [1, 0])])
        model.graph.node = [Self.node("Div", ["x", "d"], ["y"], name: "div")]
        assertRejects(try model.serializedBytes(), { e in e.description.contains("zero") })
    }

    func testOneDimensionalConvolutionIsRejected() throws {
        var model = Self.model(input: [1, 1, 4], initializers: [Self.tensor("w", dims: [1, 1, 2], floats: [1, 1])])
        model.graph.node = [Self.node("Conv", ["x", "w"], ["y"], name: "conv1d")]
        assertRejects(try model.serializedBytes(), { e in
            if case .unsupportedOperator(_, "conv1d", "Conv", _) = e { return true } else { return false }
        })
    }

    func testUnknownTensorAndMissingOutput() throws {
        var unknown = Self.model(input: [1, 2])
        unknown.graph.node = [Self.node("Relu", ["nowhere"], ["y"], name: "r")]
        assertRejects(try unknown.serializedBytes(), { e in e.description.contains("nowhere") })
        var noOutput = Self.model(input: [1, 2])
        noOutput.graph.output = []
        assertRejects(try noOutput.serializedBytes(), isNotONNX)
    }
}

/// A tiny deterministic generator for the random-bytes test.
struct SplitMix {
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
