import XCTest
import Network
@testable import LPAbstraction

/// The baseline mode (two big-M MILPs per neuron, layer by layer) and the big-M model behind it,
/// against brute force and against the exact mode.
final class PerNeuronMILPTests: XCTestCase {
    func farDeadline() -> ContinuousClock.Instant { .now + .seconds(120) }

    /// The big-M model built by `GLPKNetworkModel` is exact: run to the end (no early stop), each
    /// neuron's MILP maximum and minimum equal the brute-force range.
    func testNeuronMILPOptimaMatchBruteForce() throws {
        var rng = SplitMix64(seed: 41)
        var compared = 0
        for trial in 0..<6 {
            let network = TestNetworks.randomDense(widths: [3, 4, 4, 3, 1], seed: UInt64(2100 + trial))
            let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 1.0...2.0)
            let bounds = BoundPropagator(network: network).bounds(box: box, method: .symbolic)
            let truth = exactRanges(network, box: box)
            for layer in network.reluNodes.indices {
                let milp = try NeuronMILP(network: network, box: box, bounds: bounds,
                                          assignment: PhaseAssignment(network: network), layer: layer)
                for i in truth[layer].indices {
                    for maximize in [true, false] {
                        let outcome = milp.solve(i, maximize: maximize, deadline: farDeadline()) { _ in false }
                        guard case .finished(let optimum?) = outcome else {
                            XCTFail("trial \(trial) n\(layer).\(i): \(outcome)")
                            continue
                        }
                        let expected = maximize ? truth[layer][i].max : truth[layer][i].min
                        XCTAssertEqual(optimum, expected, accuracy: 1e-6 * (1 + Swift.abs(expected)),
                                       "trial \(trial) n\(layer).\(i) \(maximize ? "max" : "min")")
                        compared += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 100)
    }

    /// The baseline decides every neuron of tiny random networks, agrees with brute force wherever
    /// the exact range keeps clear of 0, and gives the same classes as the exact mode.
    func testBaselineAgreesWithExactModeAndBruteForce() {
        var rng = SplitMix64(seed: 43)
        var stableSeen = 0, unstableSeen = 0
        // Two and three ReLU layers, at most 13 neurons (brute force enumerates 2^13 patterns).
        let architectures = [[2, 4, 4, 2], [3, 5, 3, 2], [4, 3, 5, 2], [2, 3, 3, 3, 2], [3, 4, 4, 3, 1],
                             [2, 5, 4, 2], [4, 4, 3, 3, 2], [3, 3, 5, 2], [2, 4, 3, 4, 1], [4, 5, 5, 2]]
        for (trial, widths) in architectures.enumerated() {
            let network = TestNetworks.randomDense(widths: widths, seed: UInt64(2500 + trial))
            let box = TestNetworks.randomBox(dimension: widths[0], rng: &rng, width: 0.2...1.5)
            let truth = exactRanges(network, box: box)
            let detector = StableNeuronDetector(network: network)
            let baseline = detector.classify(box: box, mode: .perNeuronMILP, deadline: farDeadline(), seed: UInt64(trial))
            let exact = detector.classify(box: box, mode: .exact, deadline: farDeadline(), seed: UInt64(trial))
            for (layer, classes) in baseline.classes.enumerated() {
                for (i, c) in classes.enumerated() {
                    let (low, high) = truth[layer][i]
                    let context = "trial \(trial) n\(layer).\(i) range [\(low), \(high)] baseline \(c) exact \(exact.classes[layer][i])"
                    XCTAssertNotEqual(c, .unknown, context)
                    XCTAssertEqual(c, exact.classes[layer][i], context)
                    switch c {
                    case .active: XCTAssertGreaterThanOrEqual(low, -1e-9, context)
                    case .inactive: XCTAssertLessThanOrEqual(high, 1e-9, context)
                    case .unstable: XCTAssertTrue(low < 1e-9 && high > -1e-9, context)
                    case .unknown: break
                    }
                    if low > 1e-6 || high < -1e-6 { stableSeen += 1 }
                    if low < -1e-6 && high > 1e-6 { unstableSeen += 1 }
                    if let w = baseline.positiveWitness[layer][i] {
                        let values: [[Float80]] = network.nodeValues(baseline.witnesses[w].map { Float80($0) })
                        XCTAssertGreaterThan(values[network.nodes[network.reluNodes[layer]].inputs[0]][i], 0, context)
                    }
                    if let w = baseline.negativeWitness[layer][i] {
                        let values: [[Float80]] = network.nodeValues(baseline.witnesses[w].map { Float80($0) })
                        XCTAssertLessThan(values[network.nodes[network.reluNodes[layer]].inputs[0]][i], 0, context)
                    }
                }
            }
            for x in baseline.witnesses { XCTAssertTrue(box.contains(x), "trial \(trial): witness outside the box") }
        }
        // The comparison means something only if both kinds occur.
        XCTAssertGreaterThan(stableSeen, 10)
        XCTAssertGreaterThan(unstableSeen, 10)
    }
}
