import Foundation
import XCTest
import Compression
import LPAbstraction
import Network
@testable import Verifier

/// `nnverify compress --prove` at the API level: compress a small dense network over a box, then
/// prove with the verifier that the compressed network agrees with the original; and refute a
/// "compressed" network that is wrong.
final class EquivalenceProofTests: XCTestCase {
    /// A 4-8-8-2 network on [-1, 1]^4 in which, by construction, layer 1 neurons 0–1 are stably
    /// inactive, 2–3 stably active (3's row a multiple of 2's, so it folds), and layer 2 neurons
    /// 0–1 stably inactive, 2 stably active; the rest are left as the random weights make them.
    static func smallNetwork() -> (Network, Box) {
        let box = Box(lower: [Double](repeating: -1, count: 4), upper: [Double](repeating: 1, count: 4))
        var net = FalsifierFixtures.denseNetwork([4, 8, 8, 2], seed: 2026)
        guard case .dense(var first) = net.nodes[1].operation else { fatalError("node 1 must be dense") }
        // Over [-1, 1]^n, |w·x| ≤ Σ|w_j|, so a bias beyond that fixes the sign.
        func reach(_ d: DenseLayer, _ i: Int) -> Double { (0..<d.weights.columns).reduce(0) { $0 + abs(d.weights[i, $1]) } }
        for j in 0..<4 { first.weights[3, j] = 2 * first.weights[2, j] }
        first.bias[0] = -reach(first, 0) - 0.5
        first.bias[1] = -reach(first, 1) - 0.5
        first.bias[2] = reach(first, 2) + 0.5
        first.bias[3] = reach(first, 3) + 3
        net.nodes[1].operation = .dense(first)
        // Upper bounds of layer-1 outputs by interval arithmetic, for layer 2's biases.
        let upper = (0..<8).map { max(0, reach(first, $0) + first.bias[$0]) }
        guard case .dense(var second) = net.nodes[3].operation else { fatalError("node 3 must be dense") }
        func reach2(_ i: Int) -> Double { (0..<8).reduce(0) { $0 + abs(second.weights[i, $1]) * upper[$1] } }
        second.bias[0] = -reach2(0) - 0.5
        second.bias[1] = -reach2(1) - 0.5
        second.bias[2] = reach2(2) + 0.5
        net.nodes[3].operation = .dense(second)
        return (net, box)
    }

    func testSmallNetworkCompressesAndProves() throws {
        let (net, box) = Self.smallNetwork()
        let report = StableNeuronDetector(network: net).classify(box: box, mode: .exact, deadline: .now + .seconds(60))
        let result = try ExactCompressor().compress(net, stable: report.stablePhases)
        XCTAssertLessThanOrEqual(result.network.reluCount, net.reluCount - 7, "the planted stable neurons are removed or folded")
        let check = EquivalenceCheck(original: net, compressed: result.network, box: box, samples: 500)
        XCTAssertLessThan(check.maxAbsoluteDifference, 1e-12)
        XCTAssertGreaterThan(check.attackedPoints, 0)
        let tolerance = EquivalenceProof.defaultTolerance(outputScale: check.maxAbsoluteOutput)
        let proof = try EquivalenceProof.prove(original: net, compressed: result.network, box: box, tolerance: tolerance,
                                               options: VerificationOptions(timeout: .seconds(60), threads: 1))
        XCTAssertEqual(proof.outcome, .proved)
        // `nnverify compress --prove` proves the file as written, whose folded weights are
        // rounded to float32: the default tolerance must leave room for that rounding.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("equivalence-proof-\(UUID().uuidString).onnx").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try result.network.write(to: file)
        let written = try Network.load(contentsOf: file)
        let writtenProof = try EquivalenceProof.prove(original: net, compressed: written, box: box, tolerance: tolerance,
                                                      options: VerificationOptions(timeout: .seconds(60), threads: 1))
        XCTAssertEqual(writtenProof.outcome, .proved)
    }

    /// Zeroing one unstable neuron's outgoing weights changes the function somewhere in the box;
    /// the proof must find such a point, and the point must really show the difference.
    func testWrongCompressedNetworkIsRefuted() throws {
        let (net, box) = Self.smallNetwork()
        var wrong = net
        guard case .dense(var second) = wrong.nodes[3].operation else { fatalError("node 3 must be dense") }
        let victim = (4..<8).first { i in (0..<8).contains { second.weights[$0, i] != 0 } }!
        for r in 0..<8 { second.weights[r, victim] = 0 }
        wrong.nodes[3].operation = .dense(second)
        let tolerance = 1e-6
        let proof = try EquivalenceProof.prove(original: net, compressed: wrong, box: box, tolerance: tolerance,
                                               options: VerificationOptions(timeout: .seconds(60), threads: 1))
        guard case .refuted(let input, let gap) = proof.outcome else { return XCTFail("expected refuted, got \(proof.outcome)") }
        XCTAssertGreaterThanOrEqual(gap, tolerance)
        XCTAssertTrue(box.contains(input))
        let measured = zip(net.evaluate(input), wrong.evaluate(input)).map { abs($0 - $1) }.max()!
        XCTAssertEqual(measured, gap)
        // The sampled and attacked check sees the difference too.
        let check = EquivalenceCheck(original: net, compressed: wrong, box: box, samples: 200)
        XCTAssertGreaterThan(check.attackedMaxAbsoluteDifference, tolerance)
    }

    func testMismatchedNetworksAreRejected() {
        let a = FalsifierFixtures.denseNetwork([4, 5, 2], seed: 1)
        let b = FalsifierFixtures.denseNetwork([4, 5, 3], seed: 2)
        let box = Box(lower: [0, 0, 0, 0], upper: [1, 1, 1, 1])
        XCTAssertThrowsError(try EquivalenceProof.prove(original: a, compressed: b, box: box, tolerance: 1e-6,
                                                        options: VerificationOptions(timeout: .seconds(1))))
    }
}
