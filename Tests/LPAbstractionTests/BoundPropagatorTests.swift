import XCTest
import Network
@testable import LPAbstraction

/// Soundness and tightness of interval and symbolic bounds on networks built in code.
final class BoundPropagatorTests: XCTestCase {
    /// Checks every node value at every sample (evaluated in `Float80`, so rounding in the check
    /// is far below the bounds' widening) against `bounds`; returns the number of samples checked.
    @discardableResult
    func assertContains(_ network: Network, _ bounds: NetworkBounds, points: [[Double]],
                        assignment: PhaseAssignment? = nil, file: StaticString = #filePath, line: UInt = #line) -> Int {
        var checked = 0
        var failures = 0
        for x in points {
            let values: [[Float80]] = network.nodeValues(x.map { Float80($0) })
            if let assignment, !agrees(network, values: values, with: assignment) { continue }
            checked += 1
            for (k, b) in bounds.nodes.enumerated() {
                for i in b.lower.indices {
                    let v = values[k][i]
                    if v < Float80(b.lower[i]) || v > Float80(b.upper[i]) {
                        failures += 1
                        if failures <= 5 {
                            XCTFail("node \(k) value \(i) = \(v) outside [\(b.lower[i]), \(b.upper[i])]", file: file, line: line)
                        }
                    }
                }
            }
            for (layer, relu) in network.reluNodes.enumerated() {
                let p = network.nodes[relu].inputs[0]
                XCTAssertEqual(bounds.preActivation[layer], bounds.nodes[p], file: file, line: line)
            }
            XCTAssertEqual(bounds.output, bounds.nodes[network.output], file: file, line: line)
        }
        return checked
    }

    func assertSymbolicNotLooser(_ symbolic: NetworkBounds, _ interval: NetworkBounds,
                                 file: StaticString = #filePath, line: UInt = #line) {
        for (s, i) in zip(symbolic.preActivation + [symbolic.output], interval.preActivation + [interval.output]) {
            for j in s.lower.indices {
                XCTAssertGreaterThanOrEqual(s.lower[j], i.lower[j], file: file, line: line)
                XCTAssertLessThanOrEqual(s.upper[j], i.upper[j], file: file, line: line)
            }
        }
    }

    func testBoundsContainRandomAndCornerInputsOnDenseNetworks() {
        var rng = SplitMix64(seed: 1)
        var strictlyTighter = 0
        for trial in 0..<12 {
            let widths = [Int.random(in: 2...6, using: &rng)] + (0..<Int.random(in: 1...4, using: &rng)).map { _ in Int.random(in: 3...12, using: &rng) } + [3]
            let network = TestNetworks.randomDense(widths: widths, seed: UInt64(100 + trial))
            let box = TestNetworks.randomBox(dimension: widths[0], rng: &rng)
            let propagator = BoundPropagator(network: network)
            let interval = propagator.bounds(box: box, method: .interval)
            let symbolic = propagator.bounds(box: box, method: .symbolic)
            XCTAssertFalse(interval.isInfeasible)
            XCTAssertFalse(symbolic.isInfeasible)
            let points = samplePoints(box, count: 2000, rng: &rng)
            assertContains(network, interval, points: points)
            assertContains(network, symbolic, points: points)
            assertSymbolicNotLooser(symbolic, interval)
            if zip(symbolic.output.lower, interval.output.lower).contains(where: { $0 > $1 + 1e-9 }) { strictlyTighter += 1 }
        }
        // Symbolic bounds must actually buy something on deeper networks.
        XCTAssertGreaterThan(strictlyTighter, 3)
    }

    /// A random dense network on 3 inputs, a random box, its centre and the activation pattern there.
    func randomCentredCase(seed: UInt64, rng: inout SplitMix64)
        -> (network: Network, box: Box, centre: [Double], pattern: [[Phase]]) {
        let network = TestNetworks.randomDense(widths: [3, 8, 8, 6, 2], seed: seed)
        let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 0.5...1.5)
        let centre = (0..<3).map { 0.5 * (box.lower[$0] + box.upper[$0]) }
        return (network, box, centre, activationPattern(network, input: centre))
    }

    func testBoundsUnderPartialAssignmentContainAgreeingInputs() {
        var rng = SplitMix64(seed: 2)
        for trial in 0..<10 {
            let (network, box, centre, pattern) = randomCentredCase(seed: UInt64(200 + trial), rng: &rng)
            let propagator = BoundPropagator(network: network)
            var assignment = PhaseAssignment(network: network)
            for layer in pattern.indices {
                for i in pattern[layer].indices where Double.random(in: 0...1, using: &rng) < 0.4 {
                    assignment[NeuronID(layer: layer, index: i)] = pattern[layer][i]
                }
            }
            for method in [BoundMethod.interval, .symbolic] {
                let b = propagator.bounds(box: box, assignment: assignment, method: method)
                XCTAssertFalse(b.isInfeasible, "the centre agrees with the assignment")
                let checked = assertContains(network, b, points: samplePoints(box, count: 3000, rng: &rng) + [centre],
                                             assignment: assignment)
                XCTAssertGreaterThan(checked, 0)
                for layer in pattern.indices {
                    for i in pattern[layer].indices {
                        switch assignment.phases[layer][i] {
                        case .active?: XCTAssertGreaterThanOrEqual(b.preActivation[layer].lower[i], 0)
                        case .inactive?: XCTAssertLessThanOrEqual(b.preActivation[layer].upper[i], 0)
                        case nil: break
                        }
                    }
                }
            }
        }
    }

    func testContradictoryAssignmentIsInfeasible() {
        let network = TestNetworks.randomDense(widths: [2, 4, 3], seed: 7)
        let box = Box(lower: [-1, -1], upper: [1, 1])
        let propagator = BoundPropagator(network: network)
        let b = propagator.bounds(box: box, method: .interval)
        // Find a stable neuron and fix it to the other phase.
        var assignment = PhaseAssignment(network: network)
        var tight = Box(lower: [0.2, 0.2], upper: [0.2000001, 0.2000001])
        var found = false
        for i in 0..<4 {
            if let phase = propagator.bounds(box: tight).stability(of: NeuronID(layer: 0, index: i)) {
                assignment[NeuronID(layer: 0, index: i)] = phase.opposite
                found = true
                break
            }
        }
        XCTAssertTrue(found)
        _ = b
        tight = Box(lower: [0.2, 0.2], upper: [0.2000001, 0.2000001])
        let result = propagator.bounds(box: tight, assignment: assignment)
        XCTAssertTrue(result.isInfeasible)
        XCTAssertEqual(result.infeasibleLayer, 0)
        XCTAssertEqual(propagator.lowerBound(outputCoefficients: [1, 0, 0], box: tight, assignment: assignment, bounds: result), .infinity)
    }

    func testConvolutionalAndResidualNetworksAreSound() {
        var rng = SplitMix64(seed: 3)
        for trial in 0..<4 {
            for network in [TestNetworks.randomConvolutional(seed: UInt64(300 + trial)),
                            TestNetworks.randomResidual(seed: UInt64(400 + trial))] {
                let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.2...0.8)
                let propagator = BoundPropagator(network: network)
                let interval = propagator.bounds(box: box, method: .interval)
                let symbolic = propagator.bounds(box: box, method: .symbolic)
                let points = samplePoints(box, count: 2000, rng: &rng)
                assertContains(network, interval, points: points)
                assertContains(network, symbolic, points: points)
                assertSymbolicNotLooser(symbolic, interval)
                // lowerBound of random output functionals is below every sampled value.
                for _ in 0..<5 {
                    let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
                    let lb = propagator.lowerBound(outputCoefficients: c, box: box, assignment: nil, bounds: symbolic)
                    for x in points {
                        let y: [Float80] = network.evaluate(x.map { Float80($0) })
                        let v = zip(c, y).reduce(Float80(0)) { $0 + Float80($1.0) * $1.1 }
                        XCTAssertLessThanOrEqual(Float80(lb), v)
                    }
                }
            }
        }
    }

    /// Past its deadline the propagator stops back-substituting: the bounds are the interval
    /// ones (still sound), and they are not memoised, so a copy without the deadline computes the
    /// full symbolic bounds of the same root region again.
    func testBoundsPastTheDeadlineFallBackToIntervalsAndAreNotMemoised() {
        var rng = SplitMix64(seed: 17)
        for network in [TestNetworks.randomDense(widths: [6, 20, 20, 3], seed: 71), TestNetworks.randomResidual(seed: 72)] {
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.3...0.8)
            var late = BoundPropagator(network: network)
            late.deadline = .now - .seconds(1)
            let cut = late.bounds(box: box, method: .symbolic)
            let interval = late.bounds(box: box, method: .interval)
            XCTAssertEqual(cut.preActivation, interval.preActivation)
            XCTAssertEqual(cut.output, interval.output)
            assertContains(network, cut, points: samplePoints(box, count: 500, rng: &rng))

            var onTime = late
            onTime.deadline = nil
            let full = onTime.bounds(box: box, method: .symbolic)
            let fresh = BoundPropagator(network: network).bounds(box: box, method: .symbolic)
            XCTAssertEqual(full.preActivation, fresh.preActivation)
            XCTAssertEqual(full.output, fresh.output)
            let width = { (b: NetworkBounds) in
                b.preActivation.reduce(0.0) { s, l in s + zip(l.lower, l.upper).reduce(0.0) { $0 + $1.1 - $1.0 } }
            }
            XCTAssertLessThan(width(full), width(cut), "back-substitution should tighten a random network's bounds")
        }
    }

    /// A neuron whose range is a few ulps wide must still be bounded soundly: the box is a single
    /// point, so the pre-activations are exact real numbers that the Double evaluation rounds.
    func testPointBoxesAreSoundDespiteRounding() {
        var rng = SplitMix64(seed: 4)
        for trial in 0..<20 {
            let network = TestNetworks.randomDense(widths: [30, 40, 40, 5], seed: UInt64(500 + trial))
            let x = (0..<30).map { _ in Double.random(in: -1...1, using: &rng) }
            let box = Box(lower: x, upper: x)
            let b = BoundPropagator(network: network).bounds(box: box)
            assertContains(network, b, points: [x])
            for layer in b.preActivation {
                for i in layer.lower.indices {
                    XCTAssertLessThan(layer.upper[i] - layer.lower[i], 1e-12, "a point box should give nearly exact bounds")
                }
            }
        }
    }

    func testCustomLowerSlopesAreSound() {
        var rng = SplitMix64(seed: 5)
        let network = TestNetworks.randomDense(widths: [4, 10, 10, 3], seed: 600)
        let box = TestNetworks.randomBox(dimension: 4, rng: &rng, width: 1...2)
        let propagator = BoundPropagator(network: network)
        let slopes = network.reluNodes.map { (0..<network.nodes[$0].size).map { _ in Double.random(in: -0.5...1.5, using: &rng) } }
        let b = propagator.bounds(box: box, assignment: nil, method: .symbolic, lowerSlopes: slopes)
        assertContains(network, b, points: samplePoints(box, count: 2000, rng: &rng))
    }

    /// Several slope sets of one objective in one pass: each bound is the one its own pass gives
    /// (up to the summation order of the shared products), and sound at sampled points.
    func testLowerBoundsForSeveralSlopeSetsMatchSeparatePasses() {
        var rng = SplitMix64(seed: 6)
        var differ = 0
        var networks: [Network] = (0..<6).map { TestNetworks.randomDense(widths: [4, 10, 10, 3], seed: UInt64(610 + $0)) }
        networks += (0..<2).map { TestNetworks.randomConvolutional(seed: UInt64(620 + $0)) }
        for (trial, network) in networks.enumerated() {
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.5...1.5)
            let propagator = BoundPropagator(network: network)
            let b = propagator.bounds(box: box)
            let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
            let sets: [[[Double]]?] = [nil] + (0..<2).map { _ in
                network.reluNodes.map { (0..<network.nodes[$0].size).map { _ in Double.random(in: 0...1, using: &rng) } }
            }
            let together = propagator.lowerBounds(outputCoefficients: c, box: box, assignment: nil, bounds: b, slopeSets: sets)
            XCTAssertEqual(together.count, 3)
            for (r, set) in sets.enumerated() {
                let alone = propagator.lowerBound(outputCoefficients: c, box: box, assignment: nil, bounds: b, lowerSlopes: set)
                XCTAssertEqual(together[r], alone, accuracy: 1e-9 * max(1, abs(alone)), "trial \(trial) set \(r)")
                if r > 0, abs(together[r] - together[0]) > 1e-6 { differ += 1 }
            }
            for x in samplePoints(box, count: 500, rng: &rng) {
                let y: [Float80] = network.evaluate(x.map { Float80($0) })
                var value: Float80 = 0
                for j in c.indices { value += Float80(c[j]) * y[j] }
                for r in together.indices { XCTAssertLessThanOrEqual(Float80(together[r]), value, "trial \(trial) set \(r)") }
            }
        }
        XCTAssertGreaterThan(differ, 0, "the slope sets never changed a bound: were they applied?")
    }

    /// Each child's own bound, the way strong branching computed it before the estimates: the
    /// node's context with the split neuron's relaxation replaced by its exact piece, one full
    /// back-substitution from the output. Sound for the child's region.
    func childBound(_ propagator: BoundPropagator, c: [Double], nodeBounds: [LayerBounds], neuron: NeuronID,
                    phase: Phase) -> Double {
        var context = propagator.backSubstitutionContext(nodeBounds: nodeBounds)
        let relu = propagator.reluNodes[neuron.layer]
        var piece = context.relaxations[relu]!
        let slope = phase == .active ? 1.0 : 0.0
        piece.lowerSlope[neuron.index] = slope
        piece.upperSlope[neuron.index] = slope
        piece.upperIntercept[neuron.index] = 0
        piece.isUnstable[neuron.index] = false
        context.relaxations[relu] = piece
        return context.lowerBounds(start: propagator.network.output, rows: c, rowCount: 1)[0]
    }

    /// Strong branching's child estimates (one shared pass, then one multi-row pass per ReLU
    /// layer) equal each child's own full back-substitution up to rounding, on dense,
    /// convolutional and residual networks with part of the phases fixed, and that bound holds
    /// on sampled points of the child's region; some splits tighten the node's bound.
    func testSplitBoundEstimatesEqualEachChildsOwnPass() {
        var rng = SplitMix64(seed: 9)
        var tightened = 0, compared = 0
        var networks: [Network] = (0..<6).map { TestNetworks.randomDense(widths: [3, 8, 8, 6, 2], seed: UInt64(900 + $0)) }
        networks += (0..<3).map { TestNetworks.randomConvolutional(seed: UInt64(950 + $0)) }
        networks += (0..<3).map { TestNetworks.randomResidual(seed: UInt64(970 + $0)) }
        for (trial, network) in networks.enumerated() {
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.5...1.5)
            let centre = box.lower.indices.map { 0.5 * (box.lower[$0] + box.upper[$0]) }
            let pattern = activationPattern(network, input: centre)
            let propagator = BoundPropagator(network: network)
            var assignment = PhaseAssignment(network: network)
            var splits: [NeuronID] = []
            for layer in pattern.indices {
                for i in pattern[layer].indices {
                    if Double.random(in: 0...1, using: &rng) < 0.3 {
                        assignment[NeuronID(layer: layer, index: i)] = pattern[layer][i]
                    } else {
                        splits.append(NeuronID(layer: layer, index: i))
                    }
                }
            }
            let c = (0..<network.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
            let b = propagator.bounds(box: box, assignment: assignment, method: .symbolic)
            guard let nodeBounds = propagator.regionBounds(box: box, assignment: assignment, bounds: b) else { continue }
            // Only neurons the node's bounds leave unstable are branching candidates.
            splits = splits.filter { n in
                let x = nodeBounds[network.nodes[propagator.reluNodes[n.layer]].inputs[0]]
                return x.lower[n.index] < 0 && x.upper[n.index] > 0
            }
            let node = propagator.lowerBound(outputCoefficients: c, box: box, assignment: assignment, bounds: b)
            guard var pass = propagator.branchingPass(outputCoefficients: c, box: box, assignment: assignment,
                                                      bounds: b) else { XCTFail("trial \(trial): region empty"); continue }
            let estimates = pass.childEstimates(splits: splits)
            XCTAssertEqual(estimates.count, splits.count)
            let points = samplePoints(box, count: 2000, rng: &rng) + [centre]
            let values: [[[Float80]]] = points.map { network.nodeValues($0.map { Float80($0) }) }
            for (neuron, estimate) in zip(splits, estimates) {
                if min(estimate.active, estimate.inactive) > node + 1e-9 { tightened += 1 }
                for (phase, value) in [(Phase.active, estimate.active), (.inactive, estimate.inactive)] {
                    let own = childBound(propagator, c: c, nodeBounds: nodeBounds, neuron: neuron, phase: phase)
                    XCTAssertEqual(value, own, accuracy: 1e-9 * (1 + abs(own)), "trial \(trial), \(neuron) \(phase)")
                    compared += 1
                    var region = assignment
                    region[neuron] = phase
                    for v in values where agrees(network, values: v, with: region) {
                        let y = v[network.output]
                        let objective = zip(c, y).reduce(Float80(0)) { $0 + Float80($1.0) * $1.1 }
                        XCTAssertLessThanOrEqual(Float80(own), objective, "trial \(trial), \(neuron) \(phase)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 100)
        XCTAssertGreaterThan(tightened, 0, "no split tightened the node's bound")
    }

    /// On one hidden layer the multipliers of the ReLU outputs are exactly `cᵀW₂`, so each
    /// unstable neuron's score follows from the triangle it is relaxed by: `−λ·intercept` for
    /// `λ < 0`, half of `λ·min(u, −l)` for `λ > 0`. Stable and fixed neurons score 0.
    func testBaBSRScoresReadTheOutputMultipliers() {
        var rng = SplitMix64(seed: 31)
        var unstableSeen = 0
        for trial in 0..<10 {
            let network = TestNetworks.randomDense(widths: [3, 12, 2], seed: UInt64(3100 + trial))
            let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 0.5...1.5)
            let propagator = BoundPropagator(network: network)
            var assignment = PhaseAssignment(network: network)
            assignment[NeuronID(layer: 0, index: 0)] = .active
            let c = [Double.random(in: -1...1, using: &rng), Double.random(in: -1...1, using: &rng)]
            let b = propagator.bounds(box: box, assignment: assignment, method: .symbolic)
            guard !b.isInfeasible else { continue }
            let scores = propagator.branchingPass(outputCoefficients: c, box: box, assignment: assignment, bounds: b)?
                .babsrScores ?? []
            XCTAssertEqual(scores.count, 1)
            guard case .dense(let output) = network.nodes[network.output].operation else { return XCTFail("dense output") }
            let x = b.preActivation[0]
            for e in 0..<12 {
                let lambda = c[0] * output.weights[0, e] + c[1] * output.weights[1, e]
                let (l, u) = (e == 0 ? max(0, x.lower[e]) : x.lower[e], x.upper[e])
                guard l < 0, u > 0 else {
                    XCTAssertEqual(scores[0][e], 0, "trial \(trial), stable or fixed neuron \(e)")
                    continue
                }
                unstableSeen += 1
                let expected = lambda < 0 ? -lambda * (-l * u / (u - l)) : 0.5 * lambda * min(u, -l)
                XCTAssertEqual(scores[0][e], expected, accuracy: 1e-9 * max(1, abs(expected)), "trial \(trial), neuron \(e)")
            }
        }
        XCTAssertGreaterThan(unstableSeen, 10)
    }

    /// A node's bounds computed from its parent's: sound for the node's region, identical to the
    /// parent's before the first layer with a new phase, at least as tight as a computation from
    /// scratch everywhere, and recomputed after it (a version that reused every layer would never
    /// beat the parent there). A "parent" that is no ancestor is ignored.
    func testBoundsFromAParentRecomputeOnlyAfterTheFirstNewPhase() {
        var rng = SplitMix64(seed: 41)
        var tighterThanParent = 0, checked = 0
        var networks: [Network] = (0..<8).map { TestNetworks.randomDense(widths: [4, 10, 10, 10, 10, 2], seed: UInt64(4100 + $0)) }
        networks += (0..<3).map { TestNetworks.randomConvolutional(seed: UInt64(4200 + $0)) }
        networks += (0..<3).map { TestNetworks.randomResidual(seed: UInt64(4300 + $0)) }
        for (trial, network) in networks.enumerated() {
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.5...1.5)
            let propagator = BoundPropagator(network: network)
            // Phases of one sampled point, so neither region is empty: a few in the first ReLU
            // layer for the parent, and a few more in a later one for the child.
            let anchor = samplePoints(box, count: 1, rng: &rng)[0]
            let pattern = activationPattern(network, input: anchor)
            var parentAssignment = PhaseAssignment(network: network)
            for i in pattern[0].indices where i % 3 == 0 { parentAssignment.phases[0][i] = pattern[0][i] }
            let changed = network.reluNodes.count - 1
            var assignment = parentAssignment
            for i in pattern[changed].indices where i % 2 == 0 { assignment.phases[changed][i] = pattern[changed][i] }
            let parent = propagator.bounds(box: box, assignment: parentAssignment)
            let fromParent = propagator.bounds(box: box, assignment: assignment, seed: nil, parent: parent,
                                               parentAssignment: parentAssignment)
            let scratch = propagator.bounds(box: box, assignment: assignment)
            XCTAssertFalse(fromParent.isInfeasible, "trial \(trial): the anchor lies in the region")
            checked += assertContains(network, fromParent, points: samplePoints(box, count: 3000, rng: &rng) + [anchor],
                                      assignment: assignment)
            let firstChanged = network.nodes[network.reluNodes[changed]].inputs[0]
            for k in 1..<network.nodes.count {
                let (b, p, f) = (fromParent.nodes[k], parent.nodes[k], scratch.nodes[k])
                for i in b.lower.indices {
                    if k < firstChanged {
                        XCTAssertEqual(b.lower[i], p.lower[i], "trial \(trial) node \(k): not the parent's")
                        XCTAssertEqual(b.upper[i], p.upper[i], "trial \(trial) node \(k): not the parent's")
                    }
                    // Up to rounding: a product's summation order (matrix-vector or -matrix) depends
                    // on how many rows go back together, which differs between the two computations.
                    let ulps = 1e-12 * (1 + abs(f.lower[i]) + abs(f.upper[i]))
                    XCTAssertGreaterThanOrEqual(b.lower[i], f.lower[i] - ulps, "trial \(trial) node \(k) looser than from scratch")
                    XCTAssertLessThanOrEqual(b.upper[i], f.upper[i] + ulps, "trial \(trial) node \(k) looser than from scratch")
                    if k > firstChanged, b.lower[i] > p.lower[i] + 1e-9 || b.upper[i] < p.upper[i] - 1e-9 {
                        tighterThanParent += 1
                    }
                }
            }
            // Not an ancestor: the child leaves free a phase the "parent" fixes.
            var stranger = PhaseAssignment(network: network)
            stranger.phases[0][1] = pattern[0][1]
            let ignored = propagator.bounds(box: box, assignment: parentAssignment, seed: nil,
                                            parent: propagator.bounds(box: box, assignment: stranger),
                                            parentAssignment: stranger)
            XCTAssertEqual(ignored.nodes.map { $0.lower }, parent.nodes.map { $0.lower }, "trial \(trial)")
            XCTAssertEqual(ignored.nodes.map { $0.upper }, parent.nodes.map { $0.upper }, "trial \(trial)")
        }
        XCTAssertGreaterThan(checked, 100)
        XCTAssertGreaterThan(tighterThanParent, 0, "the layers after the new phases were never recomputed")
    }

    /// The products back-substitution uses, against a plain loop: the few-row path (matrix-vector
    /// products) and the `dgemm` path, overwriting and accumulating.
    func testDenseProductsAgreeWithPlainLoops() {
        var rng = SplitMix64(seed: 5)
        for m in 1...7 {
            let k = 9, n = 13
            let a = (0..<(m * k)).map { _ in Double.random(in: -1...1, using: &rng) }
            let b = (0..<(k * n)).map { _ in Double.random(in: -1...1, using: &rng) }
            let old = (0..<(m * n)).map { _ in Double.random(in: -1...1, using: &rng) }
            for accumulate in [false, true] {
                var c = old
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            DenseProducts.multiply(a.baseAddress!, b.baseAddress!, into: c.baseAddress!,
                                                   m: m, k: k, n: n, accumulate: accumulate)
                        }
                    }
                }
                for r in 0..<m {
                    for j in 0..<n {
                        var s = accumulate ? old[r * n + j] : 0
                        for e in 0..<k { s += a[r * k + e] * b[e * n + j] }
                        XCTAssertEqual(c[r * n + j], s, accuracy: 1e-12, "m \(m), accumulate \(accumulate)")
                    }
                }
            }
        }
    }

    /// The im2col convolution (optimiser estimates, rounding magnitudes) computes what the direct
    /// loop computes, with strides, asymmetric padding, dilations and groups, with and without bias;
    /// so does the batched transposed convolution of back-substitution.
    func testConvolutionThroughColumnsAgreesWithDirectLoop() {
        var rng = SplitMix64(seed: 11)
        let shapes: [(inC: Int, out: Int, groups: Int, kernel: (Int, Int), strides: (Int, Int),
                      pads: (Int, Int, Int, Int), dilations: (Int, Int))] = [
            (3, 8, 1, (4, 4), (2, 2), (1, 1, 1, 1), (1, 1)),
            (4, 6, 2, (3, 2), (1, 2), (0, 1, 2, 0), (2, 1)),
            (2, 2, 2, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1)),
        ]
        for shape in shapes {
            let cpg = shape.inC / shape.groups
            let conv = Convolution(
                weights: (0..<(shape.out * cpg * shape.kernel.0 * shape.kernel.1)).map { _ in Double.random(in: -1...1, using: &rng) },
                bias: (0..<shape.out).map { _ in Double.random(in: -1...1, using: &rng) },
                inputShape: [shape.inC, 7, 6], outChannels: shape.out, kernel: shape.kernel, strides: shape.strides,
                pads: shape.pads, dilations: shape.dilations, groups: shape.groups)
            let geometry = ConvolutionGeometry(conv)
            let x = (0..<geometry.inputSize).map { _ in Double.random(in: -1...1, using: &rng) }
            for bias in [conv.bias, nil] {
                let expected = geometry.forward(x, weights: conv.weights, bias: bias)
                var y = [Double](repeating: .nan, count: geometry.outputSize)
                conv.weights.withUnsafeBufferPointer { w in
                    y.withUnsafeMutableBufferPointer { out in
                        geometry.forwardThroughColumns(x, weights: w, bias: bias, into: out.baseAddress!)
                    }
                }
                for i in y.indices {
                    XCTAssertEqual(y[i], expected[i], accuracy: 1e-12, "groups \(shape.groups), bias \(bias != nil), entry \(i)")
                }
            }
            // The transposed direction: two rows, one dense (im2col through BLAS) and one with a
            // single non-zero (the direct loop), against the direct loop row by row.
            var lambda = (0..<geometry.outputSize).map { _ in Double.random(in: -1...1, using: &rng) }
            var sparse = [Double](repeating: 0, count: geometry.outputSize)
            sparse[geometry.outputSize / 2] = 0.75
            lambda += sparse
            let start = (0..<(2 * geometry.inputSize)).map { _ in Double.random(in: -1...1, using: &rng) }
            var batched = start, expected = start
            conv.weights.withUnsafeBufferPointer { w in
                lambda.withUnsafeBufferPointer { l in
                    batched.withUnsafeMutableBufferPointer { t in
                        geometry.accumulateTransposed(rows: l.baseAddress!, rowCount: 2, weights: w, into: t.baseAddress!)
                    }
                    expected.withUnsafeMutableBufferPointer { t in
                        for r in 0..<2 {
                            geometry.accumulateTransposed(l.baseAddress! + r * geometry.outputSize, weights: w,
                                                          into: t.baseAddress! + r * geometry.inputSize)
                        }
                    }
                }
            }
            for i in batched.indices {
                XCTAssertEqual(batched[i], expected[i], accuracy: 1e-12, "transposed, groups \(shape.groups), entry \(i)")
            }
        }
    }
}
