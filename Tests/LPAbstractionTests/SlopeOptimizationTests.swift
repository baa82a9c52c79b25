import Foundation
import XCTest
import Network
import VNNLib
@testable import LPAbstraction

/// Optimised lower slopes (alpha-CROWN): the gradient against finite differences, soundness
/// against exact minima and sampled inputs, and tightness between CROWN and the triangle LP.
final class SlopeOptimizationTests: XCTestCase {
    /// `Σ c_j y_j(x)` in `Float80`, so the check's own rounding is far below the bound's widening.
    func objective(_ network: Network, _ c: [Double], at x: [Double]) -> Float80 {
        let y: [Float80] = network.evaluate(x.map { Float80($0) })
        return zip(c, y).reduce(Float80(0)) { $0 + Float80($1.0) * $1.1 }
    }

    /// The smallest objective value over the points that agree with `assignment`.
    func sampledMinimum(_ network: Network, _ c: [Double], points: [[Double]], assignment: PhaseAssignment?) -> Float80? {
        var best: Float80?
        for x in points {
            let values: [[Float80]] = network.nodeValues(x.map { Float80($0) })
            if let assignment, !agrees(network, values: values, with: assignment) { continue }
            let v = zip(c, values[network.output]).reduce(Float80(0)) { $0 + Float80($1.0) * $1.1 }
            best = Swift.min(best ?? v, v)
        }
        return best
    }

    /// A random partial assignment fixing about `fraction` of the neurons.
    func randomAssignment(_ network: Network, fraction: Double, rng: inout SplitMix64) -> PhaseAssignment {
        var assignment = PhaseAssignment(network: network)
        for layer in assignment.phases.indices {
            for i in assignment.phases[layer].indices where Double.random(in: 0...1, using: &rng) < fraction {
                assignment.phases[layer][i] = Bool.random(using: &rng) ? .active : .inactive
            }
        }
        return assignment
    }

    /// A random dense network, a box, a random assignment fixing about 30 % of its neurons, and
    /// the bounds under it.
    func partialAssignmentCase(widths: [Int], seed: UInt64, rng: inout SplitMix64)
        -> (Network, Box, BoundPropagator, PhaseAssignment, NetworkBounds) {
        let network = TestNetworks.randomDense(widths: widths, seed: seed)
        let box = TestNetworks.randomBox(dimension: widths[0], rng: &rng, width: 0.8...2)
        let propagator = BoundPropagator(network: network)
        let assignment = randomAssignment(network, fraction: 0.3, rng: &rng)
        return (network, box, propagator, assignment, propagator.bounds(box: box, assignment: assignment))
    }

    /// The scale of an objective's values, for tolerances: `Σ |c_j| · max(|l_j|, |u_j|) + 1`.
    func scale(_ c: [Double], _ bounds: NetworkBounds) -> Double {
        zip(c, zip(bounds.output.lower, bounds.output.upper)).reduce(1) { $0 + abs($1.0) * max(abs($1.1.0), abs($1.1.1)) }
    }

    /// The triangle LP optimum (a rigorous lower bound of it), or `nil` when the LP does not solve.
    func lpMinimum(_ network: Network, box: Box, bounds: NetworkBounds, assignment: PhaseAssignment?, c: [Double]) -> Double? {
        guard let lp = try? LPRelaxation(network: network, box: box, bounds: bounds,
                                         assignment: assignment ?? PhaseAssignment(network: network)),
              case .optimal(let value, _) = lp.minimize(outputCoefficients: c, deadline: nil) else { return nil }
        return value
    }

    // MARK: The gradient

    /// Compares the analytic derivative by each parameter (`gradient[gradientOffset + q]`, the
    /// parameter stored at `positions[q]` of `parameters`) with central differences of
    /// `evaluate()`; returns how many it compared.
    func compareWithCentralDifferences(_ optimizer: inout SlopeOptimizer,
                                       parameters: WritableKeyPath<SlopeOptimizer, [Double]>,
                                       positions: [Int], gradientOffset: Int, label: String) -> Int {
        _ = optimizer.evaluate()
        let gradient = optimizer.gradient
        let h = 1e-7
        for (q, position) in positions.enumerated() {
            let saved = optimizer[keyPath: parameters][position]
            optimizer[keyPath: parameters][position] = saved + h
            let up = optimizer.evaluate()
            optimizer[keyPath: parameters][position] = saved - h
            let down = optimizer.evaluate()
            optimizer[keyPath: parameters][position] = saved
            let numeric = (up - down) / (2 * h)
            XCTAssertEqual(gradient[gradientOffset + q], numeric, accuracy: 1e-6 * (1 + abs(numeric)), "\(label) \(q)")
        }
        return positions.count
    }

    /// The analytic gradient of the unrounded bound matches central differences: the bound is
    /// piecewise polynomial in the slopes, and a tiny step almost never crosses a piece boundary.
    func testGradientMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 21)
        var compared = 0
        for (trial, network) in [TestNetworks.randomDense(widths: [3, 8, 8, 8, 3], seed: 7000),
                                 TestNetworks.randomDense(widths: [4, 10, 10, 2], seed: 7001),
                                 TestNetworks.randomConvolutional(seed: 7002),
                                 TestNetworks.randomResidual(seed: 7003)].enumerated() {
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.5...1.5)
            let propagator = BoundPropagator(network: network)
            let bounds = propagator.bounds(box: box)
            let nodeBounds = propagator.regionBounds(box: box, assignment: nil, bounds: bounds)!
            let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
            let slopes = network.reluNodes.map { (0..<network.nodes[$0].size).map { _ in Double.random(in: 0.1...0.9, using: &rng) } }
            var optimizer = SlopeOptimizer(network: network, reluNodes: network.reluNodes, objective: c,
                                           nodeBounds: nodeBounds, initialSlopes: slopes)
            XCTAssertGreaterThan(optimizer.parameterCount, 0, "trial \(trial) has no unstable neuron")
            compared += compareWithCentralDifferences(&optimizer, parameters: \.lowerSlope,
                                                      positions: optimizer.parameterPosition, gradientOffset: 0,
                                                      label: "trial \(trial) slope")
        }
        XCTAssertGreaterThan(compared, 20)
    }

    /// With single-precision products the estimate and its gradient stay within `Float`
    /// rounding of the `Double` ones (only the ascent's direction uses them), on dense networks
    /// with and without live-row gathering (wide layers with stably inactive neurons), and on a
    /// convolutional one (whose dense layers go single too).
    func testSinglePrecisionProductsTrackDoubleOnes() {
        var rng = SplitMix64(seed: 23)
        var compared = 0
        for (trial, network) in [TestNetworks.randomDense(widths: [6, 40, 40, 40, 4], seed: 7050),
                                 TestNetworks.randomDense(widths: [20, 64, 32, 3], seed: 7051),
                                 TestNetworks.randomConvolutional(seed: 7052)].enumerated() {
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.2...1.5)
            let propagator = BoundPropagator(network: network)
            let assignment = randomAssignment(network, fraction: 0.2, rng: &rng)
            let bounds = propagator.bounds(box: box, assignment: assignment)
            guard !bounds.isInfeasible,
                  let nodeBounds = propagator.regionBounds(box: box, assignment: assignment, bounds: bounds) else { continue }
            let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
            let slopes = network.reluNodes.map { (0..<network.nodes[$0].size).map { _ in Double.random(in: 0...1, using: &rng) } }
            let ones = network.reluNodes.map { [Double](repeating: 1, count: network.nodes[$0].size) }
            let betas = network.reluNodes.map { (0..<network.nodes[$0].size).map { _ in Double.random(in: 0...0.5, using: &rng) } }
            func optimizer(single: Bool) -> SlopeOptimizer {
                SlopeOptimizer(network: network, reluNodes: network.reluNodes, objective: c, nodeBounds: nodeBounds,
                               initialSlopes: slopes, splitSigns: propagator.splitMultipliers(betas: ones, assignment: assignment),
                               initialBetas: betas, singlePrecisionWeights: single ? propagator.singlePrecisionWeights : nil)
            }
            var exact = optimizer(single: false), single = optimizer(single: true)
            XCTAssertTrue(exact.singleRows.isEmpty)
            XCTAssertFalse(single.singleRows.isEmpty, "trial \(trial): no single-precision product")
            let e = exact.evaluate(), f = single.evaluate()
            let scale = 1 + abs(e) + exact.gradient.reduce(0) { $0 + abs($1) }
            XCTAssertEqual(f, e, accuracy: 1e-5 * scale, "trial \(trial)")
            for q in exact.gradient.indices {
                XCTAssertEqual(single.gradient[q], exact.gradient[q], accuracy: 1e-5 * scale, "trial \(trial) parameter \(q)")
            }
            compared += exact.gradient.count
        }
        XCTAssertGreaterThan(compared, 50)
    }

    // MARK: Soundness and tightness on small networks

    /// On tiny dense networks: CROWN ≤ optimised ≤ triangle LP ≤ exact minimum (brute force), and
    /// the optimised bound is below every sampled value; it must also be strictly better than
    /// CROWN somewhere.
    func testOptimizedBoundIsSoundAndBetweenCROWNAndLP() {
        var rng = SplitMix64(seed: 22)
        var improved = 0, total = 0
        for trial in 0..<16 {
            let widths = trial < 8 ? [2, 4, 4, 2] : [3, 8, 8, 6, 3]
            let network = TestNetworks.randomDense(widths: widths, seed: UInt64(7100 + trial))
            let box = TestNetworks.randomBox(dimension: widths[0], rng: &rng, width: 0.8...2)
            let propagator = BoundPropagator(network: network)
            let bounds = propagator.bounds(box: box)
            let points = samplePoints(box, count: 2000, rng: &rng)
            let brute = trial < 8 ? BruteForce(network: network, box: box) : nil
            for _ in 0..<3 {
                let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
                let result = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: nil,
                                                            bounds: bounds, iterations: 50)
                let crown = propagator.lowerBound(outputCoefficients: c, box: box, assignment: nil, bounds: bounds)
                XCTAssertEqual(result.defaultBound, crown)
                XCTAssertGreaterThanOrEqual(result.bound, crown)
                if let exact = brute?.minimum(outputCoefficients: c) {
                    XCTAssertLessThanOrEqual(result.bound, exact + 1e-9, "above the exact minimum")
                }
                if let sampled = sampledMinimum(network, c, points: points, assignment: nil) {
                    XCTAssertLessThanOrEqual(Float80(result.bound), sampled, "above a sampled value")
                }
                if let lp = lpMinimum(network, box: box, bounds: bounds, assignment: nil, c: c) {
                    XCTAssertLessThanOrEqual(result.bound, lp + 1e-6 * scale(c, bounds), "tighter than the triangle LP")
                } else {
                    XCTFail("LP failed")
                }
                // The returned slopes reproduce the bound through the sound path.
                let again = propagator.lowerBound(outputCoefficients: c, box: box, assignment: nil, bounds: bounds,
                                                  lowerSlopes: result.slopes)
                XCTAssertEqual(again, result.bound)
                total += 1
                if result.bound > crown + 1e-9 * scale(c, bounds) { improved += 1 }
            }
        }
        print("optimised slopes beat CROWN on \(improved) of \(total) objectives")
        XCTAssertGreaterThan(improved, total / 4, "optimisation should often beat CROWN")
    }

    /// Under partial phase assignments: sound against the exact minimum and agreeing samples, and
    /// between CROWN and the LP with the same fixed phases.
    func testPartialAssignments() {
        var rng = SplitMix64(seed: 23)
        var checked = 0
        for trial in 0..<16 {
            let (network, box, propagator, assignment, bounds) = partialAssignmentCase(
                widths: trial < 8 ? [3, 4, 4, 2] : [3, 8, 8, 8, 2], seed: UInt64(7200 + trial), rng: &rng)
            let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
            let result = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: assignment,
                                                        bounds: bounds, iterations: 50)
            if bounds.isInfeasible {
                XCTAssertEqual(result.bound, .infinity)
                continue
            }
            let crown = propagator.lowerBound(outputCoefficients: c, box: box, assignment: assignment, bounds: bounds)
            XCTAssertGreaterThanOrEqual(result.bound, crown)
            if trial < 8, let exact = BruteForce(network: network, box: box).minimum(outputCoefficients: c, assignment: assignment) {
                XCTAssertLessThanOrEqual(result.bound, exact + 1e-9, "above the exact minimum")
                checked += 1
            }
            if let sampled = sampledMinimum(network, c, points: samplePoints(box, count: 3000, rng: &rng), assignment: assignment) {
                XCTAssertLessThanOrEqual(Float80(result.bound), sampled, "above an agreeing sampled value")
                checked += 1
            }
            if let lp = lpMinimum(network, box: box, bounds: bounds, assignment: assignment, c: c) {
                XCTAssertLessThanOrEqual(result.bound, lp + 1e-6 * scale(c, bounds), "tighter than the triangle LP")
            }
        }
        XCTAssertGreaterThan(checked, 8)
    }

    /// beta-CROWN multipliers of the split constraints: the derivative by each multiplier matches
    /// central differences (the bound is linear in a multiplier on each piece).
    func testSplitMultiplierGradientMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 26)
        var compared = 0
        for trial in 0..<6 {
            let network = trial < 4 ? TestNetworks.randomDense(widths: [3, 8, 8, 8, 2], seed: UInt64(7600 + trial))
                                    : TestNetworks.randomConvolutional(seed: UInt64(7600 + trial))
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.5...1.5)
            let propagator = BoundPropagator(network: network)
            let assignment = randomAssignment(network, fraction: 0.3, rng: &rng)
            let bounds = propagator.bounds(box: box, assignment: assignment)
            guard !bounds.isInfeasible, let nodeBounds = propagator.regionBounds(box: box, assignment: assignment, bounds: bounds)
            else { continue }
            let ones = network.reluNodes.map { [Double](repeating: 1, count: network.nodes[$0].size) }
            let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
            let betas = network.reluNodes.map { (0..<network.nodes[$0].size).map { _ in Double.random(in: 0...0.5, using: &rng) } }
            var optimizer = SlopeOptimizer(network: network, reluNodes: network.reluNodes, objective: c,
                                           nodeBounds: nodeBounds, initialSlopes: nil,
                                           splitSigns: propagator.splitMultipliers(betas: ones, assignment: assignment),
                                           initialBetas: betas)
            compared += compareWithCentralDifferences(&optimizer, parameters: \.beta,
                                                      positions: Array(0..<optimizer.betaCount),
                                                      gradientOffset: optimizer.parameterCount,
                                                      label: "trial \(trial) multiplier")
        }
        XCTAssertGreaterThan(compared, 20)
    }

    /// With the split constraints' multipliers: sound against the exact minimum and agreeing
    /// samples, never below CROWN, never above the LP with the same fixed phases (which has the
    /// split constraints exactly), and strictly above optimised slopes alone on a good share of
    /// objectives. Multipliers of the wrong sign (`+β·x` for an active phase) would push the bound
    /// above the exact minimum; the rounded pass must ignore them.
    func testSplitMultipliersAreSoundAndTighten() {
        var rng = SplitMix64(seed: 27)
        var improved = 0, total = 0, checked = 0
        for trial in 0..<36 {
            let (network, box, propagator, assignment, bounds) = partialAssignmentCase(
                widths: trial < 24 ? [3, 6, 6, 2] : [3, 8, 8, 8, 2], seed: UInt64(7700 + trial), rng: &rng)
            if bounds.isInfeasible { continue }
            let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
            let alphaOnly = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: assignment,
                                                           bounds: bounds, iterations: 60)
            let withBetas = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: assignment,
                                                           bounds: bounds, iterations: 60, optimizingSplits: true)
            let crown = propagator.lowerBound(outputCoefficients: c, box: box, assignment: assignment, bounds: bounds)
            XCTAssertGreaterThanOrEqual(withBetas.bound, crown)
            let tolerance = 1e-6 * scale(c, bounds)
            if trial < 24, let exact = BruteForce(network: network, box: box).minimum(outputCoefficients: c, assignment: assignment) {
                XCTAssertLessThanOrEqual(withBetas.bound, exact + 1e-9, "trial \(trial): above the exact minimum")
                checked += 1
            }
            if let sampled = sampledMinimum(network, c, points: samplePoints(box, count: 3000, rng: &rng), assignment: assignment) {
                XCTAssertLessThanOrEqual(Float80(withBetas.bound), sampled, "trial \(trial): above an agreeing sampled value")
            }
            if let lp = lpMinimum(network, box: box, bounds: bounds, assignment: assignment, c: c) {
                XCTAssertLessThanOrEqual(withBetas.bound, lp + tolerance, "trial \(trial): tighter than the LP")
            }
            if withBetas.bound.isFinite {
                total += 1
                if withBetas.bound > alphaOnly.bound + tolerance { improved += 1 }
                // Wrong-signed multipliers: the rounded pass ignores them, so the bound stays sound.
                if let betas = withBetas.betas {
                    var flipped = assignment
                    for layer in flipped.phases.indices {
                        for i in flipped.phases[layer].indices { flipped.phases[layer][i] = flipped.phases[layer][i]?.opposite }
                    }
                    let wrong = propagator.splitMultipliers(betas: betas, assignment: flipped)
                    var context = propagator.backSubstitutionContext(
                        nodeBounds: propagator.regionBounds(box: box, assignment: assignment, bounds: bounds)!,
                        lowerSlopes: withBetas.slopes)
                    let ignored = context.lowerBounds(start: network.output, rows: c, rowCount: 1, splitMultipliers: wrong)[0]
                    let plain = context.lowerBounds(start: network.output, rows: c, rowCount: 1)[0]
                    XCTAssertEqual(ignored, plain, "trial \(trial): wrong-signed multipliers must be ignored")
                }
            }
        }
        print("split multipliers beat optimised slopes alone on \(improved) of \(total) objectives")
        XCTAssertGreaterThan(checked, 8)
        XCTAssertGreaterThan(improved, total / 5, "the multipliers should often tighten the bound")
    }

    /// A run that gives up on an out-of-reach target stops early and still returns a sound bound
    /// (the rounded pass with the multipliers reached); a reachable or absent target keeps every
    /// step it needs.
    func testAbandoningUnreachableTargets() {
        var rng = SplitMix64(seed: 31)
        var abandoned = 0, checked = 0
        for trial in 0..<40 {
            let (network, box, propagator, assignment, bounds) = partialAssignmentCase(
                widths: [3, 6, 6, 2], seed: UInt64(8100 + trial), rng: &rng)
            if bounds.isInfeasible { continue }
            let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
            guard let exact = BruteForce(network: network, box: box).minimum(outputCoefficients: c, assignment: assignment) else { continue }
            let full = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: assignment, bounds: bounds,
                                                      iterations: 60, optimizingSplits: true, abandoningUnreachable: true)
            XCTAssertLessThanOrEqual(full.bound, exact + 1e-9, "trial \(trial)")
            // No finite target: nothing to give up on.
            let plain = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: assignment, bounds: bounds,
                                                       iterations: 60, optimizingSplits: true)
            XCTAssertEqual(full.iterations, plain.iterations, "trial \(trial)")
            // A target far above the true minimum cannot be reached: the run stops early.
            let hopeless = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: assignment, bounds: bounds,
                                                          iterations: 60, stopAbove: exact + 100, optimizingSplits: true,
                                                          abandoningUnreachable: true)
            XCTAssertLessThanOrEqual(hopeless.bound, exact + 1e-9, "trial \(trial)")
            XCTAssertGreaterThanOrEqual(hopeless.bound, propagator.lowerBound(outputCoefficients: c, box: box, assignment: assignment,
                                                                             bounds: bounds))
            checked += 1
            if hopeless.iterations < 60 { abandoned += 1 }
        }
        XCTAssertGreaterThan(checked, 12)
        XCTAssertEqual(abandoned, checked, "every out-of-reach target should be given up before the last step")
    }

    /// A search node may judge its constraints with an ancestor's bounds (looser: a larger region)
    /// and its own phases re-applied (`Theory.evaluate`): the single pass and the optimised slopes
    /// with split multipliers stay sound against brute force over the node's region, and the
    /// ancestor's assignment is one that the node's ``PhaseAssignment/refines(_:)``.
    func testAncestorBoundsWithTheNodesPhasesAreSound() {
        var rng = SplitMix64(seed: 47)
        var checked = 0
        for trial in 0..<40 {
            let (network, box, propagator, child, childBounds) = partialAssignmentCase(
                widths: [3, 6, 6, 2], seed: UInt64(8300 + trial), rng: &rng)
            if childBounds.isInfeasible { continue }
            // The ancestor: the child's phases with about half of them dropped.
            var ancestor = child
            for l in ancestor.phases.indices {
                for i in ancestor.phases[l].indices where Bool.random(using: &rng) { ancestor.phases[l][i] = nil }
            }
            XCTAssertTrue(child.refines(ancestor))
            XCTAssertTrue(child.refines(child))
            if ancestor.fixedCount < child.fixedCount { XCTAssertFalse(ancestor.refines(child)) }
            let ancestorBounds = propagator.bounds(box: box, assignment: ancestor)
            let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
            guard let exact = BruteForce(network: network, box: box).minimum(outputCoefficients: c, assignment: child) else { continue }
            let single = propagator.lowerBounds(outputCoefficients: c, box: box, assignment: child, bounds: ancestorBounds,
                                                slopeSets: [nil])[0]
            XCTAssertLessThanOrEqual(single, exact + 1e-9, "trial \(trial)")
            let optimized = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: child,
                                                           bounds: ancestorBounds, iterations: 40, optimizingSplits: true)
            XCTAssertLessThanOrEqual(optimized.bound, exact + 1e-9, "trial \(trial)")
            XCTAssertGreaterThanOrEqual(optimized.bound, single - 1e-9 * scale(c, ancestorBounds), "trial \(trial)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 12)
    }

    /// Convolutional and residual networks: sound on sampled inputs, never below CROWN, and never
    /// above the LP.
    func testConvolutionalAndResidualNetworks() {
        var rng = SplitMix64(seed: 24)
        for trial in 0..<4 {
            for network in [TestNetworks.randomConvolutional(seed: UInt64(7300 + trial)),
                            TestNetworks.randomResidual(seed: UInt64(7400 + trial))] {
                let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.2...0.8)
                let propagator = BoundPropagator(network: network)
                let assignment = trial.isMultiple(of: 2) ? nil : randomAssignment(network, fraction: 0.2, rng: &rng)
                let bounds = propagator.bounds(box: box, assignment: assignment)
                let points = samplePoints(box, count: 2000, rng: &rng)
                for _ in 0..<3 {
                    let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
                    let result = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: assignment,
                                                                bounds: bounds, iterations: 30)
                    if bounds.isInfeasible { XCTAssertEqual(result.bound, .infinity); continue }
                    let crown = propagator.lowerBound(outputCoefficients: c, box: box, assignment: assignment, bounds: bounds)
                    XCTAssertGreaterThanOrEqual(result.bound, crown)
                    if let sampled = sampledMinimum(network, c, points: points, assignment: assignment) {
                        XCTAssertLessThanOrEqual(Float80(result.bound), sampled, "above a sampled value")
                    }
                    if let lp = lpMinimum(network, box: box, bounds: bounds, assignment: assignment, c: c) {
                        XCTAssertLessThanOrEqual(result.bound, lp + 1e-6 * scale(c, bounds), "tighter than the triangle LP")
                    }
                }
            }
        }
    }

    /// Warm start, deadline, `stopAbove` and an empty region.
    func testWarmStartDeadlineAndInfeasibleRegion() {
        var rng = SplitMix64(seed: 25)
        let network = TestNetworks.randomDense(widths: [3, 10, 10, 3], seed: 7500)
        let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 1...2)
        let propagator = BoundPropagator(network: network)
        let bounds = propagator.bounds(box: box)
        let c = [1.0, -1.0, 0.5]
        let first = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: nil, bounds: bounds, iterations: 40)
        XCTAssertEqual(first.slopes.map(\.count), network.reluNodes.map { network.nodes[$0].size })
        // Restarting from the result with no steps gives the same sound bound.
        let warm = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: nil, bounds: bounds,
                                                  iterations: 0, initialSlopes: first.slopes)
        XCTAssertEqual(warm.bound, first.bound)
        XCTAssertEqual(warm.iterations, 0)
        // A passed deadline takes no step, and the answer is still the CROWN bound or better.
        let late = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: nil, bounds: bounds,
                                                  iterations: 100, deadline: .now - .seconds(1))
        XCTAssertEqual(late.iterations, 0)
        XCTAssertEqual(late.bound, late.defaultBound)
        // A target already met stops at once.
        let easy = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: nil, bounds: bounds,
                                                  iterations: 100, stopAbove: first.defaultBound - 100)
        XCTAssertEqual(easy.iterations, 0)
        // A child region (half the box) warm-started from the parent's slopes stays sound.
        var child = box
        child.upper[0] = 0.5 * (box.lower[0] + box.upper[0])
        let childBounds = propagator.bounds(box: child)
        let childResult = propagator.optimizedLowerBound(outputCoefficients: c, box: child, assignment: nil, bounds: childBounds,
                                                         iterations: 20, initialSlopes: first.slopes)
        XCTAssertGreaterThanOrEqual(childResult.bound, childResult.defaultBound)
        if let sampled = sampledMinimum(network, c, points: samplePoints(child, count: 2000, rng: &rng), assignment: nil) {
            XCTAssertLessThanOrEqual(Float80(childResult.bound), sampled)
        }
        // Fixing a neuron against its proven phase empties the region.
        var contradiction = PhaseAssignment(network: network)
        var found = false
        search: for (layer, b) in bounds.preActivation.enumerated() {
            for i in b.lower.indices where b.upper[i] < 0 {
                contradiction.phases[layer][i] = .active
                found = true
                break search
            }
        }
        if found {
            let empty = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: contradiction, bounds: bounds)
            XCTAssertEqual(empty.bound, .infinity)
        }
    }

    // MARK: mnistfc

    struct Instance {
        let network: Network
        let box: Box
        /// Per property disjunct: the coefficients of `y_true − y_j` (refuted when its lower bound is > 0).
        let objectives: [[Double]]
    }

    /// A network and a property of `../shared/benchmarks/mnistfc`, with its `y_j ≥ y_true` disjuncts
    /// turned into the objectives `y_true − y_j` as the search does (`c·y ≤ 0` is the violation).
    func mnistInstance(network name: String, property: String) throws -> Instance {
        guard let shared = sharedFolder() else {
            throw XCTSkip("../shared (the mnistfc benchmark) is missing next to the repository")
        }
        let folder = shared.appendingPathComponent("benchmarks/mnistfc")
        let network = try Network.load(contentsOf: folder.appendingPathComponent("onnx/\(name)").path)
        let spec = try VNNLibParser.parse(contentsOf: folder.appendingPathComponent("vnnlib/\(property)").path)
        let box = Box(lower: spec.cases[0].lower, upper: spec.cases[0].upper)
        let objectives = spec.cases[0].violation.map { conjunction -> [Double] in
            var c = [Double](repeating: 0, count: network.outputSize)
            for term in conjunction[0].terms {
                if case .output(let j) = term.variable { c[j] += term.coefficient }
            }
            return c
        }
        return Instance(network: network, box: box, objectives: objectives)
    }

    /// The gradient of `c·y` at `x` for a dense ReLU chain (input, then dense and ReLU nodes).
    func inputGradient(_ network: Network, _ c: [Double], at x: [Double]) -> [Double] {
        let values: [[Double]] = network.nodeValues(x)
        var grad = [[Double]](repeating: [], count: network.nodes.count)
        grad[network.output] = c
        for k in stride(from: network.output, to: 0, by: -1) {
            let node = network.nodes[k]
            let p = node.inputs[0]
            switch node.operation {
            case .dense(let d):
                var g = [Double](repeating: 0, count: d.weights.columns)
                for i in 0..<d.weights.rows where grad[k][i] != 0 {
                    for e in 0..<d.weights.columns { g[e] += grad[k][i] * d.weights.values[i * d.weights.columns + e] }
                }
                grad[p] = g
            case .relu:
                grad[p] = zip(grad[k], values[p]).map { $1 > 0 ? $0 : 0 }
            default:
                preconditionFailure("inputGradient handles dense ReLU chains only")
            }
        }
        return grad[0]
    }

    /// Projected sign-gradient descent on `c·y` from `start`: points near the true minimum, where
    /// an unsound bound would show.
    func attack(_ network: Network, _ c: [Double], box: Box, from start: [Double], steps: Int) -> [[Double]] {
        var x = start
        var points: [[Double]] = []
        for step in 0..<steps {
            let g = inputGradient(network, c, at: x)
            let size = 0.25 * pow(0.85, Double(step))
            for i in x.indices {
                let width = box.upper[i] - box.lower[i]
                x[i] = min(max(x[i] - size * width * (g[i] > 0 ? 1 : g[i] < 0 ? -1 : 0), box.lower[i]), box.upper[i])
            }
            points.append(x)
        }
        return points
    }

    /// mnist-net_256x2 on prop_0 (ε = 0.03): for every disjunct, CROWN ≤ optimised ≤ LP, and the
    /// optimised bound is below the objective at thousands of random and corner inputs, at the
    /// LP's optimal input, and along a descent from it and from random corners.
    func testMNIST256x2IsSoundAndBetweenCROWNAndLP() throws {
        let instance = try mnistInstance(network: "mnist-net_256x2.onnx", property: "prop_0_0.03.vnnlib")
        let network = instance.network, box = instance.box
        let propagator = BoundPropagator(network: network)
        let bounds = propagator.bounds(box: box)
        var rng = SplitMix64(seed: 26)
        let n = box.dimension
        var points = (0..<1000).map { _ in (0..<n).map { Double.random(in: box.lower[$0]...box.upper[$0], using: &rng) } }
        points += (0..<1000).map { _ in (0..<n).map { Bool.random(using: &rng) ? box.upper[$0] : box.lower[$0] } }
        let outputs = points.map { network.evaluate($0) }
        let lp = try LPRelaxation(network: network, box: box, bounds: bounds, assignment: PhaseAssignment(network: network))
        var improved = 0
        for c in instance.objectives {
            let result = propagator.optimizedLowerBound(outputCoefficients: c, box: box, assignment: nil, bounds: bounds, iterations: 50)
            XCTAssertGreaterThanOrEqual(result.bound, result.defaultBound)
            if result.bound > result.defaultBound { improved += 1 }
            // The sampled values are far above the bound; Double evaluation is accurate enough here.
            let sampled = outputs.map { zip(c, $0).reduce(0) { $0 + $1.0 * $1.1 } }.min()!
            XCTAssertLessThanOrEqual(result.bound, sampled)
            guard case .optimal(let value, let input) = lp.minimize(outputCoefficients: c, deadline: nil) else {
                XCTFail("LP failed on mnist-net_256x2")
                continue
            }
            XCTAssertLessThanOrEqual(result.bound, value + 1e-6 * scale(c, bounds), "tighter than the triangle LP")
            var near = attack(network, c, box: box, from: input, steps: 10)
            near += attack(network, c, box: box, from: points[1000], steps: 10)
            near.append(input)
            for x in near {
                XCTAssertLessThanOrEqual(Float80(result.bound), objective(network, c, at: x), "above the objective near its minimum")
            }
            print("256x2 prop_0 objective \(c.firstIndex(of: -1) ?? -1): CROWN \(result.defaultBound), optimised \(result.bound), LP \(value), descent \(near.map { objective(network, c, at: $0) }.min()!)")
        }
        XCTAssertGreaterThan(improved, 0, "optimisation should tighten some mnistfc objective")
    }

    /// The measurements behind the tuning: CROWN, optimised (20/50/100 steps) and LP margins and
    /// times on mnistfc. Runs only with `NNVERIFY_SLOPE_BENCHMARK` set (it takes minutes).
    func testMeasureMNIST() throws {
        guard ProcessInfo.processInfo.environment["NNVERIFY_SLOPE_BENCHMARK"] != nil else {
            throw XCTSkip("set NNVERIFY_SLOPE_BENCHMARK to measure alpha-CROWN on mnistfc")
        }
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        // The variable may name the networks to measure (e.g. `256x6`); the LP gets 30 s per objective.
        let only = ProcessInfo.processInfo.environment["NNVERIFY_SLOPE_BENCHMARK"]!
        for name in ["mnist-net_256x2.onnx", "mnist-net_256x4.onnx", "mnist-net_256x6.onnx"]
        where !only.contains("x") || only.split(separator: ",").contains(where: { name.contains($0) }) {
            for property in ["prop_0_0.03.vnnlib", "prop_5_0.03.vnnlib"] {
                let instance = try mnistInstance(network: name, property: property)
                let propagator = BoundPropagator(network: instance.network)
                var clock = ContinuousClock.now
                let bounds = propagator.bounds(box: instance.box)
                let boundsTime = seconds(ContinuousClock.now - clock)
                print("\(name) \(property): bounds() \(String(format: "%.3f", boundsTime)) s, unstable \(bounds.unstableCount)")
                clock = ContinuousClock.now
                let lp = try LPRelaxation(network: instance.network, box: instance.box, bounds: bounds,
                                          assignment: PhaseAssignment(network: instance.network))
                print("  LP built in " + String(format: "%.3f", seconds(ContinuousClock.now - clock)) + " s")
                // (steps, first step size); the first entry is plain CROWN, the last the LP.
                let configurations = [(20, 0.2), (50, 0.2), (100, 0.2), (20, 0.1), (50, 0.1)]
                let labels = ["CROWN"] + configurations.map { "a\($0.0)/\($0.1)" } + ["LP"]
                var totals = [Double](repeating: 0, count: labels.count)
                var refuted = [Int](repeating: 0, count: labels.count)
                var gaps = [Double](repeating: 0, count: labels.count)
                for c in instance.objectives {
                    var margins: [Double] = []
                    clock = ContinuousClock.now
                    margins.append(propagator.lowerBound(outputCoefficients: c, box: instance.box, assignment: nil, bounds: bounds))
                    totals[0] += seconds(ContinuousClock.now - clock)
                    for (slot, (steps, rate)) in configurations.enumerated() {
                        clock = ContinuousClock.now
                        let r = propagator.optimizedLowerBound(outputCoefficients: c, box: instance.box, assignment: nil,
                                                               bounds: bounds, iterations: steps, learningRate: rate)
                        totals[slot + 1] += seconds(ContinuousClock.now - clock)
                        margins.append(r.bound)
                    }
                    clock = ContinuousClock.now
                    let outcome = lp.minimize(outputCoefficients: c, deadline: .now + .seconds(30))
                    totals[labels.count - 1] += seconds(ContinuousClock.now - clock)
                    guard case .optimal(let value, _) = outcome else {
                        print("  y\(c.firstIndex(of: 1) ?? -1)-y\(c.firstIndex(of: -1) ?? -1): LP \(outcome); "
                              + zip(labels, margins).map { "\($0) " + String(format: "%.4f", $1) }.joined(separator: "  "))
                        continue
                    }
                    margins.append(value)
                    for (slot, m) in margins.enumerated() {
                        if m > 0 { refuted[slot] += 1 }
                        gaps[slot] += value - m
                    }
                    print("  y\(c.firstIndex(of: 1) ?? -1)-y\(c.firstIndex(of: -1) ?? -1): "
                          + zip(labels, margins).map { "\($0) " + String(format: "%.4f", $1) }.joined(separator: "  "))
                }
                let count = Double(instance.objectives.count)
                print("  ms per objective: " + zip(labels, totals).map { "\($0) " + String(format: "%.1f", 1000 * $1 / count) }.joined(separator: ", "))
                print("  mean gap to LP: " + zip(labels, gaps).map { "\($0) " + String(format: "%.4f", $1 / count) }.joined(separator: ", "))
                print("  refuted (of \(instance.objectives.count)): " + zip(labels, refuted).map { "\($0) \($1)" }.joined(separator: ", "))
            }
        }
    }
}
