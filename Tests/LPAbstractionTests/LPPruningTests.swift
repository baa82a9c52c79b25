import XCTest
import Network
@testable import LPAbstraction

/// Leaving the neurons that are stably inactive over the box out of the LP (`boxBounds`): the
/// result must stay a sound bound under every phase assignment the search may make later.
final class LPPruningTests: XCTestCase {
    func testPrunedLPStaysSoundUnderAssignments() throws {
        var rng = SplitMix64(seed: 41)
        var pruned = 0, compared = 0
        for trial in 0..<16 {
            // Negative biases make many neurons stably inactive over the box.
            var network = TestNetworks.randomDense(widths: [3, 6, 6, 2], seed: UInt64(4100 + trial))
            for (k, node) in network.nodes.enumerated() {
                guard case .dense(var d) = node.operation, k != network.output else { continue }
                d.bias = d.bias.map { $0 - 0.7 }
                network.nodes[k].operation = .dense(d)
            }
            let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 0.5...1.5)
            let brute = BruteForce(network: network, box: box)
            let propagator = BoundPropagator(network: network)
            let root = propagator.bounds(box: box)
            guard !root.isInfeasible else { continue }
            pruned += root.preActivation.reduce(0) { $0 + $1.upper.filter { $0 <= 0 }.count }
            let plain = try LPRelaxation(network: network, box: box, bounds: root, assignment: PhaseAssignment(network: network))
            let lean = try LPRelaxation(network: network, box: box, bounds: root, assignment: PhaseAssignment(network: network),
                                        boxBounds: root)
            for mask in 0..<64 {
                // Fix the first layer's phases only, as a search node would.
                var assignment = PhaseAssignment(network: network)
                assignment.phases[0] = (0..<6).map { mask >> $0 & 1 == 1 ? .active : .inactive }
                let bounds = propagator.bounds(box: box, assignment: assignment)
                guard !bounds.isInfeasible else { continue }
                plain.update(bounds: bounds, assignment: assignment)
                lean.update(bounds: bounds, assignment: assignment)
                let c = (0..<2).map { _ in Double.random(in: -1...1, using: &rng) }
                let exact = brute.minimum(outputCoefficients: c, assignment: assignment)
                switch (lean.minimize(outputCoefficients: c, deadline: nil), plain.minimize(outputCoefficients: c, deadline: nil)) {
                case (.optimal(let v, _), .optimal(let w, _)):
                    compared += 1
                    if let exact { XCTAssertLessThanOrEqual(v, exact + 1e-9, "pruned LP above the true minimum") }
                    // Dropping rows can only relax.
                    XCTAssertLessThanOrEqual(v, w + 1e-7)
                case (.infeasible, _):
                    XCTAssertNil(exact, "pruned LP called a feasible region infeasible")
                default:
                    break
                }
            }
        }
        XCTAssertGreaterThan(pruned, 0, "the test networks should have stably inactive neurons")
        XCTAssertGreaterThan(compared, 20)
    }
}
