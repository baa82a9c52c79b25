import Foundation
import XCTest
@testable import Network

/// Locations and fixture loading shared by the ONNX tests.
enum ONNXTestSupport {
    /// The repository root, found from this file's path (`repo/Tests/NetworkTests/…`).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shared folder with the benchmark networks: `repo/../shared`.
    static let sharedRoot: URL = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")

    /// The shared folder, or an `XCTSkip` when this checkout has none.
    static func shared() throws -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: sharedRoot.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw XCTSkip("../shared not found: \(sharedRoot.path) (the benchmark networks live there)")
        }
        return sharedRoot
    }

    /// A network from the shared folder, by path relative to it.
    static func sharedNetwork(_ relativePath: String) throws -> Network {
        try Network.load(contentsOf: try shared().appendingPathComponent(relativePath).path)
    }

    /// The onnxruntime reference outputs written by `scripts/make_eval_fixtures.py`.
    struct EvalFixtures: Decodable {
        struct Entry: Decodable {
            var inputShape: [Int]
            var inputs: String
            var outputs: [[Double]]
        }
        var inputSets: [String: [[Double]]]
        var networks: [String: Entry]
    }

    static func evalFixtures() throws -> EvalFixtures {
        let url = repoRoot.appendingPathComponent("Tests/NetworkFixtures/eval_fixtures.json")
        return try JSONDecoder().decode(EvalFixtures.self, from: Data(contentsOf: url))
    }

    /// A fresh temporary directory, removed when the test ends.
    static func temporaryDirectory(for test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nnverify-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Largest difference between two outputs, relative to max(max |reference|, 1).
    ///
    /// Relative to the largest output rather than per element: ORT sums in float32 in another
    /// order than we do, so each logit carries an error proportional to the logits' magnitude,
    /// not to its own (a logit near zero can differ by ~1e-6 absolute on large networks).
    static func relativeError(_ value: [Double], _ reference: [Double]) -> Double {
        let scale = max(reference.map(abs).max() ?? 0, 1)
        return zip(value, reference).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }
}
