import Foundation
import XCTest
import Network
import VNNLib
@testable import LPAbstraction

/// The cost of one ReLU-search node's bounds on the real mnistfc networks, outside the search (whose
/// schedule depends on the clock): random dives that fix phases of unstable first- and
/// second-layer neurons, each node bounded from its parent as the search does it, then its output
/// objective back-substituted and optimised with split multipliers. Timing only runs with
/// `NNVERIFY_BENCH_NODES=1` (`bench/node_cost.sh`); otherwise a short run checks that the
/// workload stays sound on sampled points.
final class NodeCostBenchmarkTests: XCTestCase {
    struct Workload {
        let network: Network
        let box: Box
        let objective: [Double]
        /// The root's optimised intermediate bounds, which seed every node (as in the search).
        let seed: NetworkBounds
        /// Every node's assignment and the index of its parent (-1: the root).
        var nodes: [(assignment: PhaseAssignment, parent: Int)] = []
    }

    /// Dives of up to `depth` random phases from the root, `count` nodes in all.
    func workload(family: String = "mnistfc", net: String, property: String, count: Int, depth: Int) throws -> Workload {
        guard let shared = sharedFolder() else { throw XCTSkip("../shared (\(family) networks) is missing next to the repository") }
        let folder = shared.appendingPathComponent("benchmarks/\(family)")
        let network = try Network.load(contentsOf: folder.appendingPathComponent("onnx/\(net)").path)
        let spec = try VNNLibParser.parse(contentsOf: folder.appendingPathComponent("vnnlib/\(property)").path)
        let box = Box(lower: spec.cases[0].lower, upper: spec.cases[0].upper)
        let centre = zip(box.lower, box.upper).map { ($0 + $1) / 2 }
        let y = network.evaluate(centre)
        let label = y.indices.max { y[$0] < y[$1] }!
        let other = y.indices.filter { $0 != label }.max { y[$0] < y[$1] }!
        var objective = [Double](repeating: 0, count: y.count)
        objective[label] = 1
        objective[other] = -1
        let propagator = BoundPropagator(network: network)
        let seed = propagator.optimizedRootBounds(box: box, iterations: 20, deadline: nil)
        var w = Workload(network: network, box: box, objective: objective, seed: seed)
        var rng = SplitMix64(seed: 2026)
        while w.nodes.count < count {
            var assignment = PhaseAssignment(network: network)
            var bounds = propagator.bounds(box: box, assignment: assignment, method: .symbolic, seed: seed)
            w.nodes.append((assignment, -1))
            for _ in 0..<depth where w.nodes.count < count {
                let layer = Int.random(in: 0..<min(2, network.reluNodes.count), using: &rng)
                let b = bounds.preActivation[layer]
                let unstable = b.lower.indices.filter { b.lower[$0] < 0 && b.upper[$0] > 0 && assignment.phases[layer][$0] == nil }
                guard let i = unstable.randomElement(using: &rng) else { break }
                let parentAssignment = assignment
                assignment[NeuronID(layer: layer, index: i)] = Bool.random(using: &rng) ? .active : .inactive
                let child = propagator.bounds(box: box, assignment: assignment, seed: seed, parent: bounds,
                                              parentAssignment: parentAssignment)
                if child.isInfeasible { break }
                w.nodes.append((assignment, w.nodes.count - 1))
                bounds = child
            }
        }
        return w
    }

    /// Bounds every node of `w` from its parent's bounds; returns the seconds for the bounds and
    /// for the objective (adaptive back-substitution, then `steps` of slopes and split multipliers).
    func run(_ w: Workload, steps: Int, check: Bool,
             singlePrecision: Bool = true) -> (bounds: Double, objective: Double, lowest: Double) {
        var propagator = BoundPropagator(network: w.network)
        propagator.optimizesInSinglePrecision = singlePrecision
        var all: [NetworkBounds] = []
        var boundSeconds = 0.0, objectiveSeconds = 0.0
        var lowest = Double.infinity
        var rng = SplitMix64(seed: 7)
        for (assignment, parent) in w.nodes {
            var clock = ContinuousClock.now
            let bounds = parent < 0
                ? propagator.bounds(box: w.box, assignment: assignment, method: .symbolic, seed: w.seed)
                : propagator.bounds(box: w.box, assignment: assignment, seed: w.seed, parent: all[parent],
                                    parentAssignment: w.nodes[parent].assignment)
            boundSeconds += (ContinuousClock.now - clock).seconds
            all.append(bounds)
            clock = ContinuousClock.now
            let adaptive = propagator.lowerBounds(objectives: [(w.objective, nil)], box: w.box, assignment: assignment,
                                                  bounds: bounds)[0]
            let optimized = propagator.optimizedLowerBound(outputCoefficients: w.objective, box: w.box,
                                                           assignment: assignment, bounds: bounds, iterations: steps,
                                                           optimizingSplits: true, knownDefaultBound: adaptive)
            objectiveSeconds += (ContinuousClock.now - clock).seconds
            lowest = min(lowest, optimized.bound)
            guard check else { continue }
            // Points of the node's region (found by sampling the box): inside every bound.
            for _ in 0..<20 {
                let x = w.box.lower.indices.map { Double.random(in: w.box.lower[$0]...w.box.upper[$0], using: &rng) }
                let values = w.network.nodeValues(x)
                var inRegion = true
                for (layer, relu) in w.network.reluNodes.enumerated() {
                    let v = values[w.network.nodes[relu].inputs[0]]
                    for (i, phase) in assignment.phases[layer].enumerated() {
                        if phase == .active && v[i] < 0 || phase == .inactive && v[i] > 0 { inRegion = false }
                    }
                }
                guard inRegion else { continue }
                for (layer, relu) in w.network.reluNodes.enumerated() {
                    let v = values[w.network.nodes[relu].inputs[0]]
                    let b = bounds.preActivation[layer]
                    for i in v.indices {
                        XCTAssertGreaterThanOrEqual(v[i], b.lower[i] - 1e-9)
                        XCTAssertLessThanOrEqual(v[i], b.upper[i] + 1e-9)
                    }
                }
                let out = values[w.network.output]
                let value = zip(w.objective, out).map(*).reduce(0, +)
                XCTAssertGreaterThanOrEqual(value, optimized.bound - 1e-9)
            }
        }
        return (boundSeconds, objectiveSeconds, lowest)
    }

    func testNodeCostOnMnistfc() throws {
        try measure(family: "mnistfc", cases: [("mnist-net_256x4.onnx", "prop_8_0.05.vnnlib"),
                                               ("mnist-net_256x6.onnx", "prop_2_0.05.vnnlib")],
                    nodes: 150)
    }

    /// The same on a convolutional network, whose back-substitution runs through transposed
    /// convolutions.
    func testNodeCostOnOval21() throws {
        try measure(family: "oval21", cases: [("cifar_base_kw.onnx", "cifar_base_kw-img590-eps0.03228758169934641.vnnlib")],
                    nodes: 60)
    }

    /// Times `nodes` nodes per case when `NNVERIFY_BENCH_NODES=1`, else checks the first case's
    /// workload on sampled points.
    func measure(family: String, cases: [(String, String)], nodes: Int) throws {
        let timing = ProcessInfo.processInfo.environment["NNVERIFY_BENCH_NODES"] == "1"
        for (net, property) in timing ? cases : Array(cases.prefix(1)) {
            let w = try workload(family: family, net: net, property: property, count: timing ? nodes : 12, depth: 12)
            _ = run(w, steps: 6, check: !timing)
            _ = run(w, steps: 6, check: !timing, singlePrecision: false)
            guard timing else { continue }
            var samples: [(Double, Double)] = [], doubleObjective: [Double] = []
            var lowest = 0.0, lowestDouble = 0.0
            for _ in 0..<5 {
                let r = run(w, steps: 6, check: false)
                samples.append((r.bounds, r.objective))
                lowest = r.lowest
                let d = run(w, steps: 6, check: false, singlePrecision: false)
                doubleObjective.append(d.objective)
                lowestDouble = d.lowest
            }
            // The fastest of five: on a shared machine, the run least disturbed by other work.
            let perNode = { (xs: [Double]) in xs.min()! / Double(w.nodes.count) * 1000 }
            print(String(format: "node cost %@ %@: %d nodes, bounds %.3f ms, objective %.3f ms per node (fastest of 5), lowest bound %.6f; optimiser in double precision: objective %.3f ms, lowest bound %.6f",
                         net, property, w.nodes.count, perNode(samples.map(\.0)), perNode(samples.map(\.1)), lowest,
                         perNode(doubleObjective), lowestDouble))
        }
    }
}

private extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
