import Foundation
import XCTest
import Network
import VNNLib
@testable import LPAbstraction

/// Bounds on the real networks in `../shared`: the stability facts of the compression networks,
/// soundness on sampled inputs for every benchmark family, and the time per bounds call.
final class BenchmarkNetworkTests: XCTestCase {
    func shared() throws -> URL {
        guard let url = sharedFolder() else {
            throw XCTSkip("../shared (benchmarks and compression networks) is missing next to the repository")
        }
        return url
    }

    /// Checks sampled inputs (evaluated in `Float80`) against the pre-activation and output bounds.
    func assertSound(_ network: Network, _ bounds: NetworkBounds, _ points: [[Double]], file: StaticString = #filePath, line: UInt = #line) {
        var failures = 0
        for x in points {
            let values: [[Float80]] = network.nodeValues(x.map { Float80($0) })
            for (layer, relu) in network.reluNodes.enumerated() {
                let v = values[network.nodes[relu].inputs[0]]
                let b = bounds.preActivation[layer]
                for i in v.indices where v[i] < Float80(b.lower[i]) || v[i] > Float80(b.upper[i]) {
                    failures += 1
                    if failures < 5 { XCTFail("layer \(layer) neuron \(i): \(v[i]) outside [\(b.lower[i]), \(b.upper[i])]", file: file, line: line) }
                }
            }
            let y = values[network.output]
            for i in y.indices where y[i] < Float80(bounds.output.lower[i]) || y[i] > Float80(bounds.output.upper[i]) {
                failures += 1
                if failures < 5 { XCTFail("output \(i): \(y[i]) outside bounds", file: file, line: line) }
            }
        }
    }

    func counts(_ b: LayerBounds) -> (active: Int, inactive: Int, unstable: Int) {
        var a = 0, i = 0, u = 0
        for k in b.lower.indices {
            if b.lower[k] >= 0 { a += 1 } else if b.upper[k] <= 0 { i += 1 } else { u += 1 }
        }
        return (a, i, u)
    }

    func testCompressionNetworkStabilityFacts() throws {
        let folder = try shared().appendingPathComponent("compression")
        // (file, [(active, inactive) per layer]) as certified in compression/README.md.
        let expected: [(String, [(Int, Int)])] = [
            ("mnist_fc_100_100.onnx", [(0, 0), (0, 0)]),
            ("mnist_fc_200_200.onnx", [(0, 0), (0, 0)]),
            ("cifar10_fc_400_400_l1_1.75e-4_pruned.onnx", [(85, 0), (116, 0)]),
            ("cifar100_fc_400_400_l1_7.5e-5_pruned.onnx", [(75, 0), (0, 0)]),
        ]
        var rng = SplitMix64(seed: 99)
        for (file, layers) in expected {
            let network = try Network.load(contentsOf: folder.appendingPathComponent(file).path)
            let n = network.inputSize
            let box = Box(lower: [Double](repeating: 0, count: n), upper: [Double](repeating: 1, count: n))
            let propagator = BoundPropagator(network: network)
            for method in [BoundMethod.interval, .symbolic] {
                let b = propagator.bounds(box: box, method: method)
                for (layer, (active, inactive)) in layers.enumerated() {
                    let c = counts(b.preActivation[layer])
                    // Certified facts are exact: no sound method may certify more, and these
                    // were all certified by interval arithmetic, so both methods must find them.
                    XCTAssertEqual(c.active, active, "\(file) layer \(layer + 1) \(method) active")
                    XCTAssertEqual(c.inactive, inactive, "\(file) layer \(layer + 1) \(method) inactive")
                }
                if file.hasPrefix("cifar10_") {
                    XCTAssertEqual(b.stability(of: NeuronID(layer: 0, index: 99)), .active, "CIFAR-10 layer 1 neuron 99")
                    XCTAssertEqual(b.stability(of: NeuronID(layer: 1, index: 189)), .active, "CIFAR-10 layer 2 neuron 189")
                }
                if file.hasPrefix("cifar100_") {
                    XCTAssertEqual(b.stability(of: NeuronID(layer: 0, index: 89)), .active, "CIFAR-100 layer 1 neuron 89")
                    XCTAssertNil(b.stability(of: NeuronID(layer: 1, index: 364)), "CIFAR-100 layer 2 neuron 364 is unstable")
                }
                var points = (0..<100).map { _ in (0..<n).map { _ in Double.random(in: 0...1, using: &rng) } }
                points += (0..<100).map { _ in (0..<n).map { _ in Bool.random(using: &rng) ? 1.0 : 0.0 } }
                assertSound(network, b, points)
            }
        }
    }

    /// One instance per family: soundness on sampled inputs of its first box, and timing.
    func testBenchmarkFamiliesAreSound() throws {
        let folder = try shared().appendingPathComponent("benchmarks")
        let families = ["test", "acasxu", "mnistfc", "mnist_gdvb", "oval21", "cifar10_resnet"]
        let heavy = ProcessInfo.processInfo.environment["NNVERIFY_HEAVY_TESTS"] != nil
        var rng = SplitMix64(seed: 77)
        for family in families {
            let csv = try String(contentsOf: folder.appendingPathComponent("\(family)/instances.csv"), encoding: .utf8)
            var seen = Set<String>()
            for line in csv.split(separator: "\n") {
                let parts = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count >= 2, seen.insert(parts[0]).inserted else { continue }
                if !heavy && seen.count > 1 { break }
                let network = try Network.load(contentsOf: folder.appendingPathComponent("\(family)/\(parts[0])").path)
                let spec = try VNNLibParser.parse(contentsOf: folder.appendingPathComponent("\(family)/\(parts[1])").path)
                let box = Box(lower: spec.cases[0].lower, upper: spec.cases[0].upper)
                let propagator = BoundPropagator(network: network)
                var clock = ContinuousClock.now
                let interval = propagator.bounds(box: box, method: .interval)
                let intervalTime = ContinuousClock.now - clock
                clock = ContinuousClock.now
                let symbolic = propagator.bounds(box: box, method: .symbolic)
                let symbolicTime = ContinuousClock.now - clock
                print("bounds \(family)/\(parts[0]): relus \(network.reluCount), unstable interval \(interval.unstableCount) symbolic \(symbolic.unstableCount); time interval \(intervalTime), symbolic \(symbolicTime)")
                let sampleCount = network.reluCount > 2000 ? 10 : 100
                var points = (0..<sampleCount).map { _ in box.lower.indices.map { Double.random(in: box.lower[$0]...box.upper[$0], using: &rng) } }
                points += (0..<sampleCount).map { _ in box.lower.indices.map { Bool.random(using: &rng) ? box.upper[$0] : box.lower[$0] } }
                assertSound(network, interval, points)
                assertSound(network, symbolic, points)
                for (s, i) in zip(symbolic.preActivation, interval.preActivation) {
                    for k in s.lower.indices {
                        XCTAssertGreaterThanOrEqual(s.lower[k], i.lower[k])
                        XCTAssertLessThanOrEqual(s.upper[k], i.upper[k])
                    }
                }
            }
        }
    }
}
