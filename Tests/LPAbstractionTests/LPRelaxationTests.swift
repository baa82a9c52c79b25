import XCTest
import Network
@testable import LPAbstraction

/// The LP relaxation against brute force (one exact LP per activation pattern) and against the
/// symbolic bounds.
final class LPRelaxationTests: XCTestCase {
    func testRelaxationsBoundTheExactMinimumAndLPIsNotLooserThanSymbolic() throws {
        var rng = SplitMix64(seed: 11)
        var lpStrictlyBetter = 0
        for trial in 0..<12 {
            let network = TestNetworks.randomDense(widths: [2, 4, 4, 2], seed: UInt64(1000 + trial))
            let box = TestNetworks.randomBox(dimension: 2, rng: &rng, width: 0.5...2)
            let brute = BruteForce(network: network, box: box)
            let propagator = BoundPropagator(network: network)
            let bounds = propagator.bounds(box: box)
            let empty = PhaseAssignment(network: network)
            let lp = try LPRelaxation(network: network, box: box, bounds: bounds, assignment: empty)
            for _ in 0..<4 {
                let c = (0..<2).map { _ in Double.random(in: -1...1, using: &rng) }
                let exact = try XCTUnwrap(brute.minimum(outputCoefficients: c))
                let symbolic = propagator.lowerBound(outputCoefficients: c, box: box, assignment: nil, bounds: bounds)
                XCTAssertLessThanOrEqual(symbolic, exact + 1e-9)
                guard case .optimal(let value, let input) = lp.minimize(outputCoefficients: c, deadline: nil) else {
                    return XCTFail("LP without fixed phases must be feasible")
                }
                XCTAssertLessThanOrEqual(value, exact + 1e-9, "LP relaxation above the true minimum")
                XCTAssertGreaterThanOrEqual(value, symbolic - 1e-7, "LP looser than symbolic bounds")
                if value > symbolic + 1e-6 { lpStrictlyBetter += 1 }
                XCTAssertTrue(box.contains(input))
            }
            // Pre-activation LPs: never looser than symbolic bounds, never tighter than the truth.
            for (layer, relu) in network.reluNodes.enumerated() {
                for i in 0..<network.nodes[relu].size {
                    let neuron = NeuronID(layer: layer, index: i)
                    guard case .optimal(let lo, _) = lp.minimize(preActivationOf: neuron, maximize: false, deadline: nil),
                          case .optimal(let hi, _) = lp.minimize(preActivationOf: neuron, maximize: true, deadline: nil) else {
                        return XCTFail("pre-activation LP failed")
                    }
                    XCTAssertGreaterThanOrEqual(lo, bounds.preActivation[layer].lower[i] - 1e-7)
                    XCTAssertLessThanOrEqual(hi, bounds.preActivation[layer].upper[i] + 1e-7)
                    XCTAssertLessThanOrEqual(lo, hi + 1e-9)
                }
            }
        }
        XCTAssertGreaterThan(lpStrictlyBetter, 0, "the LP should sometimes beat back-substitution")
    }

    /// A basis saved from one branch and restored after solving another is only a warm start:
    /// the optimum is the fresh LP's, and a basis of another LP's shape is ignored.
    func testRestoredBasisLeavesTheOptimumUnchanged() throws {
        var rng = SplitMix64(seed: 29)
        var restored = 0
        // Random assignments are often infeasible (the first layer's bounds under the halfspaces
        // of its fixed phases show most of them), and those trials restore nothing.
        for trial in 0..<40 {
            let network = TestNetworks.randomDense(widths: [2, 5, 5, 2], seed: UInt64(1700 + trial))
            let box = TestNetworks.randomBox(dimension: 2, rng: &rng, width: 0.5...2)
            let propagator = BoundPropagator(network: network)
            let bounds = propagator.bounds(box: box)
            let c = (0..<2).map { _ in Double.random(in: -1...1, using: &rng) }
            func randomAssignment() -> PhaseAssignment {
                var a = PhaseAssignment(network: network)
                for layer in 0..<2 { for i in 0..<5 where Double.random(in: 0...1, using: &rng) < 0.3 {
                    a[NeuronID(layer: layer, index: i)] = Bool.random(using: &rng) ? .active : .inactive
                } }
                return a
            }
            let first = randomAssignment(), second = randomAssignment()
            let firstBounds = propagator.bounds(box: box, assignment: first), secondBounds = propagator.bounds(box: box, assignment: second)
            guard !firstBounds.isInfeasible, !secondBounds.isInfeasible else { continue }
            let fresh = try LPRelaxation(network: network, box: box, bounds: firstBounds, assignment: first, boxBounds: bounds)
                .minimize(outputCoefficients: c, deadline: nil)
            let lp = try LPRelaxation(network: network, box: box, bounds: firstBounds, assignment: first, boxBounds: bounds)
            _ = lp.minimize(outputCoefficients: c, deadline: nil)
            let saved = lp.basis()
            lp.update(bounds: secondBounds, assignment: second)
            _ = lp.minimize(outputCoefficients: c, deadline: nil)
            lp.update(bounds: firstBounds, assignment: first)
            lp.restore(saved)
            // A basis of a smaller LP (one layer less) does not fit and must be ignored.
            let smaller = truncated(network, toPreActivationOf: 1)
            let other = try LPRelaxation(network: smaller, box: box, bounds: BoundPropagator(network: smaller).bounds(box: box),
                                         assignment: PhaseAssignment(network: smaller))
            _ = other.minimize(preActivationOf: NeuronID(layer: 0, index: 0), maximize: false, deadline: nil)
            lp.restore(other.basis())
            let again = lp.minimize(outputCoefficients: c, deadline: nil)
            switch (fresh, again) {
            case (.optimal(let a, _), .optimal(let b, _)):
                XCTAssertEqual(a, b, accuracy: 1e-9 * Swift.max(1, Swift.abs(a)), "trial \(trial)")
                restored += 1
            case (.infeasible, .infeasible):
                break
            default:
                XCTFail("trial \(trial): fresh \(fresh), after restoring \(again)")
            }
        }
        XCTAssertGreaterThan(restored, 5)
    }

    /// With every phase fixed the LP is exact: it must match brute force on feasible patterns and
    /// prove infeasibility (with a sound conflict) on the others.
    func testFullyFixedPatternsMatchBruteForce() throws {
        var rng = SplitMix64(seed: 12)
        var infeasibleProved = 0, infeasibleTotal = 0, feasibleTotal = 0, certificates = 0, conflictSizes = 0, fixedSizes = 0
        for trial in 0..<6 {
            let network = TestNetworks.randomDense(widths: [2, 3, 3, 2], seed: UInt64(2000 + trial))
            let box = TestNetworks.randomBox(dimension: 2, rng: &rng, width: 0.5...2)
            let brute = BruteForce(network: network, box: box)
            let propagator = BoundPropagator(network: network)
            let c = [1.0, -0.5]
            let rootBounds = propagator.bounds(box: box)
            var lp: LPRelaxation?
            for pattern in brute.patterns(agreeingWith: nil) {
                var assignment = PhaseAssignment(network: network)
                assignment.phases = pattern.map { $0.map { Optional($0) } }
                let exact = brute.solve(pattern: pattern, objective: c)
                let bounds = propagator.bounds(box: box, assignment: assignment)
                let outcome: LPOutcome
                if bounds.isInfeasible {
                    outcome = .infeasible(conflict: [])
                    XCTAssertNil(exact, "bounds called a feasible pattern infeasible")
                } else {
                    // Re-use one LP and warm-start it, as the verifier will.
                    if let lp { lp.update(bounds: bounds, assignment: assignment) } else {
                        lp = try LPRelaxation(network: network, box: box, bounds: bounds, assignment: assignment)
                    }
                    outcome = lp!.minimize(outputCoefficients: c, deadline: nil)
                }
                switch (exact, outcome) {
                case (let e?, .optimal(let value, _)):
                    feasibleTotal += 1
                    XCTAssertLessThanOrEqual(value, e + 1e-9)
                    XCTAssertGreaterThanOrEqual(value, e - 1e-6, "fully fixed LP should be exact")
                case (_?, let other):
                    XCTFail("feasible pattern, LP says \(other)")
                case (nil, .infeasible(let conflict)):
                    infeasibleTotal += 1
                    infeasibleProved += 1
                    if !bounds.isInfeasible {
                        certificates += 1
                        conflictSizes += conflict.count
                        fixedSizes += assignment.fixedCount
                    }
                    // Soundness of the conflict: fixing only these phases leaves no input.
                    var partial = PhaseAssignment(network: network)
                    for n in conflict { partial[n] = assignment[n] }
                    if !conflict.isEmpty {
                        XCTAssertFalse(brute.isFeasible(partial), "learned conflict \(conflict) is not a conflict")
                    }
                case (nil, _):
                    infeasibleTotal += 1
                }
            }
            _ = rootBounds
        }
        XCTAssertGreaterThan(feasibleTotal, 0)
        XCTAssertGreaterThan(infeasibleTotal, 0)
        XCTAssertGreaterThanOrEqual(Double(infeasibleProved), 0.9 * Double(infeasibleTotal), "too few infeasibility certificates")
        // Some infeasible patterns must get past the bounds, so the Farkas path is exercised.
        XCTAssertGreaterThan(certificates, 0)
        print("LP infeasibility certificates: \(certificates), conflict size \(conflictSizes) of \(fixedSizes) fixed phases in total")
    }

    /// Partial assignments: bounds and LP stay below the exact minimum over agreeing inputs.
    func testPartialAssignmentsBoundTheExactMinimum() throws {
        var rng = SplitMix64(seed: 13)
        var checked = 0
        for trial in 0..<10 {
            let network = TestNetworks.randomDense(widths: [3, 4, 4, 2], seed: UInt64(3000 + trial))
            let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 0.5...2)
            let brute = BruteForce(network: network, box: box)
            let propagator = BoundPropagator(network: network)
            var assignment = PhaseAssignment(network: network)
            for layer in assignment.phases.indices {
                for i in assignment.phases[layer].indices where Double.random(in: 0...1, using: &rng) < 0.3 {
                    assignment.phases[layer][i] = Bool.random(using: &rng) ? .active : .inactive
                }
            }
            let c = (0..<2).map { _ in Double.random(in: -1...1, using: &rng) }
            let exact = brute.minimum(outputCoefficients: c, assignment: assignment)
            let bounds = propagator.bounds(box: box, assignment: assignment)
            if bounds.isInfeasible {
                XCTAssertNil(exact)
                continue
            }
            let lb = propagator.lowerBound(outputCoefficients: c, box: box, assignment: assignment, bounds: bounds)
            let lp = try LPRelaxation(network: network, box: box, bounds: bounds, assignment: assignment)
            let outcome = lp.minimize(outputCoefficients: c, deadline: nil)
            if let exact {
                checked += 1
                XCTAssertLessThanOrEqual(lb, exact + 1e-9)
                guard case .optimal(let value, _) = outcome else { return XCTFail("feasible, LP says \(outcome)") }
                XCTAssertLessThanOrEqual(value, exact + 1e-9)
                XCTAssertGreaterThanOrEqual(value, lb - 1e-7)
            } else if case .optimal = outcome {
                // Allowed (the relaxation may be feasible), just not the other way round.
            }
        }
        XCTAssertGreaterThan(checked, 3)
    }

    func testOutputAndInputConstraintsAndDeadline() throws {
        let network = TestNetworks.randomDense(widths: [2, 5, 5, 2], seed: 4000)
        let box = Box(lower: [-1, -1], upper: [1, 1])
        let propagator = BoundPropagator(network: network)
        let bounds = propagator.bounds(box: box)
        let lp = try LPRelaxation(network: network, box: box, bounds: bounds, assignment: PhaseAssignment(network: network))
        guard case .optimal(let base, _) = lp.minimize(outputCoefficients: [1, 0], deadline: nil) else { return XCTFail() }
        // x0 ≤ -2 is outside the box: infeasible, proved without any fixed neuron.
        lp.addInputConstraint(coefficients: [1, 0], rhs: -2)
        guard case .infeasible(let conflict) = lp.minimize(outputCoefficients: [1, 0], deadline: nil) else {
            return XCTFail("input constraint outside the box must be infeasible")
        }
        XCTAssertEqual(conflict, [])
        let lp2 = try LPRelaxation(network: network, box: box, bounds: bounds, assignment: PhaseAssignment(network: network))
        // y0 ≤ base - 1 contradicts the (sound) LP minimum of y0.
        lp2.addOutputConstraint(coefficients: [1, 0], rhs: base - 1)
        if case .optimal = lp2.minimize(outputCoefficients: [0, 1], deadline: nil) {
            XCTFail("output constraint below the LP minimum must be infeasible")
        }
        // A deadline in the past times out.
        XCTAssertTrue({ if case .timeout = lp.minimize(outputCoefficients: [0, 1], deadline: .now - .seconds(1)) { return true }; return false }())
    }

    func testLPBoundTighteningIsSoundAndNotLooser() {
        var rng = SplitMix64(seed: 14)
        var tighter = 0
        for trial in 0..<6 {
            let network = TestNetworks.randomDense(widths: [3, 8, 8, 8, 2], seed: UInt64(6000 + trial))
            let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 1...2)
            let propagator = BoundPropagator(network: network)
            let symbolic = propagator.bounds(box: box)
            let tightened = propagator.tightenBounds(box: box, assignment: nil, bounds: symbolic,
                                                     neurons: propagator.unstableNeurons(symbolic), deadline: .now + .seconds(30))
            XCTAssertFalse(tightened.isInfeasible)
            for (t, s) in zip(tightened.preActivation + [tightened.output], symbolic.preActivation + [symbolic.output]) {
                for i in t.lower.indices {
                    XCTAssertGreaterThanOrEqual(t.lower[i], s.lower[i])
                    XCTAssertLessThanOrEqual(t.upper[i], s.upper[i])
                    if t.lower[i] > s.lower[i] + 1e-6 || t.upper[i] < s.upper[i] - 1e-6 { tighter += 1 }
                }
            }
            for x in samplePoints(box, count: 2000, rng: &rng) {
                let values: [[Float80]] = network.nodeValues(x.map { Float80($0) })
                for (k, b) in tightened.nodes.enumerated() {
                    for i in b.lower.indices {
                        XCTAssertTrue(Float80(b.lower[i]) <= values[k][i] && values[k][i] <= Float80(b.upper[i]),
                                      "node \(k) value \(i) outside tightened bounds")
                    }
                }
            }
        }
        XCTAssertGreaterThan(tighter, 0, "LP tightening should tighten something")
    }
}
