import XCTest
import Network
@testable import LPAbstraction

/// The first layer's bounds under the input halfspaces of its fixed phases: exact for one
/// halfspace, sound, and the same whether computed afresh or from an ancestor's bounds.
final class InputHalfspacesTests: XCTestCase {
    /// The exact maximum of `a·x + a₀` over `box ∧ g·x + g₀ ≥ 0`, from the polytope's vertices:
    /// the box's corners inside the halfspace and the hyperplane's crossings of the box's edges
    /// (`nil` when the polytope is empty). Evaluated in `Float80`.
    func exactMaximum(_ a: [Double], _ a0: Double, _ g: [Double], _ g0: Double, box: Box) -> Float80? {
        let n = box.dimension
        func value(_ w: [Double], _ w0: Double, _ x: [Float80]) -> Float80 {
            zip(w, x).reduce(Float80(w0)) { $0 + Float80($1.0) * $1.1 }
        }
        var best: Float80?
        func consider(_ x: [Float80]) {
            guard value(g, g0, x) >= -1e-15 else { return }
            let v = value(a, a0, x)
            best = max(best ?? v, v)
        }
        for mask in 0..<(1 << n) {
            let corner = (0..<n).map { Float80(mask & (1 << $0) != 0 ? box.upper[$0] : box.lower[$0]) }
            consider(corner)
            // The edges along coordinate k from this corner (with bit k clear).
            for k in 0..<n where mask & (1 << k) == 0 && g[k] != 0 {
                var x = corner
                x[k] = 0
                let t = -value(g, g0, x) / Float80(g[k])
                if t >= Float80(box.lower[k]), t <= Float80(box.upper[k]) {
                    x[k] = t
                    consider(x)
                }
            }
        }
        return best
    }

    func testOneHalfspaceGivesTheExactBoundOverTheCutBox() {
        var rng = SplitMix64(seed: 41)
        var tightened = 0
        for trial in 0..<30 {
            let inputs = Int.random(in: 2...4, using: &rng)
            let network = TestNetworks.randomDense(widths: [inputs, 6, 2], seed: UInt64(4100 + trial))
            guard case .dense(let layer) = network.nodes[1].operation else { return XCTFail("expected a dense first layer") }
            let box = TestNetworks.randomBox(dimension: inputs, rng: &rng, width: 0.5...2.0)
            let interval = IntervalArithmetic.dense(layer, input: LayerBounds(lower: box.lower, upper: box.upper))
            let n = inputs
            for i in 0..<6 where interval.lower[i] < 0 && interval.upper[i] > 0 {
                for phase in [Phase.active, .inactive] {
                    var phases = [Phase?](repeating: nil, count: 6)
                    phases[i] = phase
                    var bounds = interval
                    InputHalfspaces.tighten(&bounds, layer: layer, box: box, phases: phases, since: nil)
                    let s: Double = phase == .active ? 1 : -1
                    let g = (0..<n).map { s * layer.weights.values[i * n + $0] }
                    let g0 = s * layer.bias[i]
                    for j in 0..<6 where j != i && interval.lower[j] < 0 && interval.upper[j] > 0 {
                        let a = Array(layer.weights.values[j * n..<(j + 1) * n])
                        guard let maximum = exactMaximum(a, layer.bias[j], g, g0, box: box),
                              let minimum = exactMaximum(a.map { -$0 }, -layer.bias[j], g, g0, box: box).map({ -$0 }) else {
                            continue
                        }
                        // Sound, and exact up to the rounding slack (or the interval bound, when that is lower).
                        XCTAssertGreaterThanOrEqual(Float80(bounds.upper[j]), maximum, "trial \(trial) cut \(i) neuron \(j)")
                        XCTAssertLessThanOrEqual(Float80(bounds.lower[j]), minimum, "trial \(trial) cut \(i) neuron \(j)")
                        XCTAssertLessThanOrEqual(bounds.upper[j], min(interval.upper[j], Double(maximum)) + 1e-9)
                        XCTAssertGreaterThanOrEqual(bounds.lower[j], max(interval.lower[j], Double(minimum)) - 1e-9)
                        if bounds.upper[j] < interval.upper[j] - 1e-6 || bounds.lower[j] > interval.lower[j] + 1e-6 {
                            tightened += 1
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(tightened, 20, "the cuts should tighten many neighbours")
    }

    func testAncestorBoundsAndFreshBoundsAgreeOnTheFirstLayer() {
        var rng = SplitMix64(seed: 42)
        for trial in 0..<10 {
            let network = TestNetworks.randomDense(widths: [4, 10, 8, 3], seed: UInt64(4200 + trial))
            let box = TestNetworks.randomBox(dimension: 4, rng: &rng, width: 0.5...1.5)
            let centre = (0..<4).map { 0.5 * (box.lower[$0] + box.upper[$0]) }
            let pattern = activationPattern(network, input: centre)
            let propagator = BoundPropagator(network: network)
            // Fix first-layer phases of the centre one at a time; each child from its parent.
            var assignment = PhaseAssignment(network: network)
            var parentBounds = propagator.bounds(box: box, assignment: assignment)
            for i in (0..<10).shuffled(using: &rng).prefix(4) {
                let parentAssignment = assignment
                assignment[NeuronID(layer: 0, index: i)] = pattern[0][i]
                let child = propagator.bounds(box: box, assignment: assignment, seed: nil, parent: parentBounds,
                                              parentAssignment: parentAssignment)
                let fresh = propagator.bounds(box: box, assignment: assignment)
                XCTAssertFalse(child.isInfeasible, "the centre agrees with the assignment")
                // A neuron that a cut makes stable is not cut further, so its other bound may
                // depend on the order of the cuts; an unstable one has seen every cut either way.
                for j in 0..<10 where assignment.phases[0][j] == nil {
                    let c = child.preActivation[0], f = fresh.preActivation[0]
                    XCTAssertEqual(c.lower[j] < 0 && c.upper[j] > 0, f.lower[j] < 0 && f.upper[j] > 0)
                    guard c.lower[j] < 0 && c.upper[j] > 0 else { continue }
                    XCTAssertEqual(c.lower[j], f.lower[j], accuracy: 1e-12)
                    XCTAssertEqual(c.upper[j], f.upper[j], accuracy: 1e-12)
                }
                let points = samplePoints(box, count: 3000, rng: &rng) + [centre]
                for x in points {
                    let values: [[Float80]] = network.nodeValues(x.map { Float80($0) })
                    guard agrees(network, values: values, with: assignment) else { continue }
                    for j in 0..<10 {
                        XCTAssertGreaterThanOrEqual(values[1][j], Float80(child.preActivation[0].lower[j]))
                        XCTAssertLessThanOrEqual(values[1][j], Float80(child.preActivation[0].upper[j]))
                    }
                }
                parentBounds = child
            }
        }
    }
}
