import XCTest
import Network
@testable import LPAbstraction

/// ``StableNeuronDetector/classify(box:assignment:mode:deadline:seed:)``: classification over the
/// part of a box where some ReLUs have fixed phases, against brute force restricted to the
/// activation patterns that agree with them; and seeding ``BoundPropagator`` with tighter bounds.
final class DetectorAssignmentTests: XCTestCase {
    /// Exact range of every pre-activation over the inputs agreeing with `assignment`, `nil` when
    /// none does: the minimum and maximum over every feasible activation pattern of the whole
    /// network (later layers' fixed phases restrict the region too) that agrees with it.
    func restrictedRanges(_ network: Network, box: Box, assignment: PhaseAssignment) -> [[(min: Double, max: Double)]]? {
        let sizes = network.reluNodes.map { network.nodes[$0].size }
        let probes = sizes.indices.map { probe(network, layer: $0) }
        var low = sizes.map { [Double](repeating: .infinity, count: $0) }
        var high = sizes.map { [Double](repeating: -.infinity, count: $0) }
        var feasible = false
        patterns: for pattern in BruteForce(network: network, box: box).patterns(agreeingWith: assignment) {
            for (layer, size) in sizes.enumerated() {
                let brute = BruteForce(network: probes[layer], box: box)
                for i in 0..<size {
                    var c = [Double](repeating: 0, count: size)
                    c[i] = 1
                    guard let lo = brute.solve(pattern: pattern, objective: c) else { continue patterns }   // empty piece
                    c[i] = -1
                    let hi = -brute.solve(pattern: pattern, objective: c)!
                    low[layer][i] = Swift.min(low[layer][i], lo)
                    high[layer][i] = Swift.max(high[layer][i], hi)
                    feasible = true
                }
            }
        }
        guard feasible else { return nil }
        return sizes.indices.map { l in (0..<sizes[l]).map { (low[l][$0], high[l][$0]) } }
    }

    /// The network with one more node, an identity copy of ReLU layer `layer`'s pre-activation, as
    /// its output: brute force on it keeps every ReLU's pattern constraint, so a piece is the
    /// whole network's piece, while the objective reads the pre-activation.
    func probe(_ network: Network, layer: Int) -> Network {
        let p = network.nodes[network.reluNodes[layer]].inputs[0]
        let n = network.nodes[p].size
        let identity = DenseLayer(weights: Matrix(rows: n, columns: n, values: (0..<(n * n)).map { $0 / n == $0 % n ? 1 : 0 }),
                                  bias: [Double](repeating: 0, count: n))
        var nodes = network.nodes
        nodes.append(Node(operation: .dense(identity), inputs: [p], shape: [n], name: "probe"))
        return Network(nodes: nodes, output: nodes.count - 1)
    }

    func testClassificationUnderPartialAssignmentsMatchesBruteForce() {
        var rng = SplitMix64(seed: 61)
        var checked = 0, stableFromAssignment = 0
        let architectures = [[2, 4, 4, 2], [3, 4, 3, 2], [2, 3, 4, 3, 1], [3, 5, 4, 2], [2, 4, 3, 3, 2], [4, 4, 4, 2]]
        for (trial, widths) in architectures.enumerated() {
            let network = TestNetworks.randomDense(widths: widths, seed: UInt64(3100 + trial))
            let box = TestNetworks.randomBox(dimension: widths[0], rng: &rng, width: 0.5...1.5)
            // Fix two neurons of the first ReLU layer at the phases a random input of the box has,
            // so the region is never empty.
            let x = (0..<widths[0]).map { Double.random(in: box.lower[$0]...box.upper[$0], using: &rng) }
            let phases = activationPattern(network, input: x)
            var assignment = PhaseAssignment(network: network)
            for i in [0, 1] { assignment[NeuronID(layer: 0, index: i)] = phases[0][i] }
            guard let truth = restrictedRanges(network, box: box, assignment: assignment) else { continue }
            for mode in [DetectorMode.exact, .perNeuronMILP] {
                let report = StableNeuronDetector(network: network).classify(box: box, assignment: assignment, mode: mode,
                                                                             deadline: .now + .seconds(60), seed: UInt64(trial))
                XCTAssertFalse(report.bounds.isInfeasible, "trial \(trial)")
                for (layer, classes) in report.classes.enumerated() {
                    for (i, c) in classes.enumerated() {
                        let (low, high) = truth[layer][i]
                        let context = "trial \(trial) \(mode) n\(layer).\(i) range [\(low), \(high)] class \(c)"
                        if let fixed = assignment.phases[layer][i] {
                            XCTAssertEqual(c, fixed == .active ? .active : .inactive, context)
                            stableFromAssignment += 1
                            continue
                        }
                        XCTAssertNotEqual(c, .unknown, context)
                        switch c {
                        case .active: XCTAssertGreaterThanOrEqual(low, -1e-9, context)
                        case .inactive: XCTAssertLessThanOrEqual(high, 1e-9, context)
                        case .unstable: XCTAssertTrue(low < 1e-9 && high > -1e-9, context)
                        case .unknown: break
                        }
                        if low > 1e-6 || high < -1e-6 { XCTAssertTrue(c == .active || c == .inactive, context) }
                        if low < -1e-6 && high > 1e-6 { XCTAssertEqual(c, .unstable, context) }
                        checked += 1
                    }
                }
                // Every witness lies in the region: the fixed neurons have their phases there.
                for w in report.witnesses {
                    XCTAssertTrue(box.contains(w))
                    let pattern = activationPattern(network, input: w)
                    for i in [0, 1] { XCTAssertEqual(pattern[0][i], assignment.phases[0][i]!, "trial \(trial) witness outside the region") }
                }
            }
        }
        XCTAssertGreaterThan(checked, 40)
        XCTAssertGreaterThan(stableFromAssignment, 0)
    }

    /// Seeded bounds are never looser than the seed or than unseeded bounds, and stay sound.
    func testSeededBoundsAreTighterAndSound() {
        var rng = SplitMix64(seed: 67)
        let network = TestNetworks.randomDense(widths: [3, 8, 8, 6, 2], seed: 3300)
        let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 0.5...1.5)
        let propagator = BoundPropagator(network: network)
        let plain = propagator.bounds(box: box, method: .symbolic)
        let tightened = propagator.tightenBounds(box: box, assignment: nil, bounds: plain,
                                                 neurons: propagator.unstableNeurons(plain), deadline: nil)
        let seeded = propagator.bounds(box: box, assignment: nil, method: .symbolic, seed: tightened)
        let points = samplePoints(box, count: 2000, rng: &rng)
        for (layer, b) in seeded.preActivation.enumerated() {
            for i in b.lower.indices {
                XCTAssertGreaterThanOrEqual(b.lower[i], plain.preActivation[layer].lower[i])
                XCTAssertGreaterThanOrEqual(b.lower[i], tightened.preActivation[layer].lower[i])
                XCTAssertLessThanOrEqual(b.upper[i], plain.preActivation[layer].upper[i])
                XCTAssertLessThanOrEqual(b.upper[i], tightened.preActivation[layer].upper[i])
            }
        }
        for x in points {
            let values: [[Float80]] = network.nodeValues(x.map { Float80($0) })
            for (layer, relu) in network.reluNodes.enumerated() {
                let v = values[network.nodes[relu].inputs[0]], b = seeded.preActivation[layer]
                for i in v.indices { XCTAssertTrue(v[i] >= Float80(b.lower[i]) && v[i] <= Float80(b.upper[i]), "n\(layer).\(i)") }
            }
        }
    }
}
