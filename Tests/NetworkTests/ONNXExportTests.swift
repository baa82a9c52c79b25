import Foundation
import XCTest
@testable import Network

/// Export: load → export → load must compute the same function, and onnxruntime must run the
/// exported file and agree.
final class ONNXExportTests: XCTestCase {
    /// Networks covering every exported node kind: dense, conv (padding, groups, dilation),
    /// elementwise affine, residual add, 1-D and odd input shapes.
    func roundTripCases() throws -> [(name: String, network: Network)] {
        var cases: [(String, Network)] = []
        for name in ["conv_block", "shift_before_unpadded_conv", "reindexing", "residual", "column_input",
                     "dense_then_padded_conv"] {
            cases.append(("operators/\(name)", try ONNXOperatorTests.load(name)))
        }
        if (try? ONNXTestSupport.shared()) != nil {
            for path in ["benchmarks/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx",
                         "benchmarks/cifar10_resnet/onnx/resnet_2b.onnx",
                         "benchmarks/mnistfc/onnx/mnist-net_256x2.onnx",
                         "benchmarks/test/onnx/test_nano.onnx",
                         "benchmarks/test/onnx/test_small.onnx"] {
                cases.append((path, try ONNXTestSupport.sharedNetwork(path)))
            }
        }
        return cases
    }

    /// A deterministic input in [-1, 1].
    func input(for network: Network, seed: Int) -> [Double] {
        (0..<network.inputSize).map { Double(($0 * 7919 + seed * 104_729) % 33 - 16) / 16 }
    }

    func testRoundTripComputesTheSameFunction() throws {
        for (name, network) in try roundTripCases() {
            let data = try network.onnxData()
            let reloaded = try Network(onnxData: data, path: name + " (exported)")
            XCTAssertEqual(reloaded.inputName, network.inputName, name)
            XCTAssertEqual(reloaded.outputName, network.outputName, name)
            XCTAssertEqual(reloaded.onnxInputShape, network.onnxInputShape, name)
            XCTAssertEqual(reloaded.onnxOutputShape, network.onnxOutputShape, name)
            XCTAssertEqual(reloaded.reluCount, network.reluCount, name)
            for seed in 0..<3 {
                let x = input(for: network, seed: seed)
                // Export rounds weights to float32, so agreement is to float32 precision.
                let expected: [Double] = network.evaluate(x)
                XCTAssertLessThan(ONNXTestSupport.relativeError(reloaded.evaluate(x), expected), 1e-5, name)
            }
        }
    }

    func testWriteToFile() throws {
        let network = try ONNXOperatorTests.load("residual")
        let url = try ONNXTestSupport.temporaryDirectory(for: self).appendingPathComponent("residual.onnx")
        try network.write(to: url.path)
        let reloaded = try Network.load(contentsOf: url.path)
        let x = input(for: network, seed: 1)
        XCTAssertLessThan(ONNXTestSupport.relativeError(reloaded.evaluate(x), network.evaluate(x)), 1e-6)
        XCTAssertThrowsError(try network.write(to: "/nonexistent-dir/x.onnx")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent-dir/x.onnx"), "\(error)")
        }
    }

    /// Runs every exported file in onnxruntime (when Python has it) and compares with Swift.
    func testExportedFilesRunInOnnxRuntime() throws {
        guard Self.run(["python3", "-c", "import onnxruntime, numpy"]).status == 0 else {
            throw XCTSkip("python3 with onnxruntime and numpy is not available; skipping the onnxruntime cross-check")
        }
        let folder = try ONNXTestSupport.temporaryDirectory(for: self)
        var manifest: [[String: Any]] = []
        var expected: [[Double]] = []
        for (index, (_, network)) in try roundTripCases().enumerated() {
            let path = folder.appendingPathComponent("net\(index).onnx").path
            try network.write(to: path)
            let x = input(for: network, seed: 2)
            expected.append(network.evaluate(x))
            manifest.append(["path": path, "input": x, "shape": network.onnxInputShape, "name": network.inputName])
        }
        let manifestURL = folder.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestURL)
        let script = """
        import json, sys, numpy as np, onnx, onnxruntime as ort
        out = []
        for case in json.load(open(sys.argv[1])):
            onnx.checker.check_model(onnx.load(case["path"]))
            s = ort.InferenceSession(case["path"], providers=["CPUExecutionProvider"])
            x = np.array(case["input"], dtype=np.float32).reshape(case["shape"])
            out.append([float(v) for v in s.run(None, {case["name"]: x})[0].ravel()])
        print(json.dumps(out))
        """
        let result = Self.run(["python3", "-c", script, manifestURL.path])
        XCTAssertEqual(result.status, 0, result.output)
        guard result.status == 0 else { return }
        let outputs = try JSONDecoder().decode([[Double]].self, from: Data(result.output.utf8))
        XCTAssertEqual(outputs.count, expected.count)
        for (index, (ort, swift)) in zip(outputs, expected).enumerated() {
            XCTAssertEqual(ort.count, swift.count, "net\(index)")
            XCTAssertLessThan(ONNXTestSupport.relativeError(ort, swift), 1e-5, "net\(index)")
        }
    }

    static func run(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe(), errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = process.terminationStatus == 0 ? data : errorData
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
