import Foundation
import XCTest
@testable import Network

/// The importer against onnxruntime: every network in the fixture, evaluated in Double and Float,
/// must match ORT's float32 outputs.
final class ONNXEvalAgreementTests: XCTestCase {
    /// 1e-5 relative to max(max |output|, 1). Float32 accumulation order alone explains up to
    /// ~2e-5 on the largest logits of the CIFAR compression nets (see shared/compression/README.md),
    /// which the max-abs scaling absorbs; a wrong weight or index would be off by orders more.
    static let tolerance = 1e-5

    func testEveryFixtureNetworkMatchesOnnxRuntime() throws {
        let shared = try ONNXTestSupport.shared()
        let fixtures = try ONNXTestSupport.evalFixtures()
        XCTAssertGreaterThanOrEqual(fixtures.networks.count, 30)
        for (relativePath, entry) in fixtures.networks.sorted(by: { $0.key < $1.key }) {
            let network = try Network.load(contentsOf: shared.appendingPathComponent(relativePath).path)
            XCTAssertEqual(network.onnxInputShape, entry.inputShape, relativePath)
            let inputs = try XCTUnwrap(fixtures.inputSets[entry.inputs], relativePath)
            XCTAssertEqual(inputs.count, entry.outputs.count, relativePath)
            for (input, reference) in zip(inputs, entry.outputs) {
                XCTAssertEqual(network.outputSize, reference.count, relativePath)
                let double: [Double] = network.evaluate(input)
                let float: [Float] = network.evaluate(input.map { Float($0) })
                let doubleError = ONNXTestSupport.relativeError(double, reference)
                let floatError = ONNXTestSupport.relativeError(float.map(Double.init), reference)
                XCTAssertLessThan(doubleError, Self.tolerance, "\(relativePath) (Double)")
                XCTAssertLessThan(floatError, Self.tolerance, "\(relativePath) (Float)")
            }
        }
    }
}
