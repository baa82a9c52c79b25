import Foundation
import XCTest
import Network
@testable import LPAbstraction

/// Optimised intermediate bounds (alpha-CROWN for every layer): sound against sampled forward
/// passes, never looser than CROWN, and always the product of the rounded back-substitution.
final class IntermediateSlopeTests: XCTestCase {
    /// Every node value of every sampled point lies within the bounds (checked in `Float80`, far
    /// more precise than the bounds' widening).
    func assertContains(_ bounds: NetworkBounds, _ network: Network, points: [[Double]],
                        file: StaticString = #filePath, line: UInt = #line) {
        for x in points {
            let values: [[Float80]] = network.nodeValues(x.map { Float80($0) })
            for k in 1..<network.nodes.count {
                let b = bounds.nodes[k]
                for (i, v) in values[k].enumerated() {
                    XCTAssertLessThanOrEqual(Float80(b.lower[i]), v, "node \(k) value \(i) below its lower bound",
                                             file: file, line: line)
                    XCTAssertGreaterThanOrEqual(Float80(b.upper[i]), v, "node \(k) value \(i) above its upper bound",
                                                file: file, line: line)
                }
            }
        }
    }

    /// A random dense network with layer widths `widths`, a random box over its input, and every
    /// node's CROWN bounds over the box: where the back-substitution tests start.
    func randomSetting(widths: [Int], seed: UInt64, rng: inout SplitMix64)
        -> (network: Network, box: Box, propagator: BoundPropagator, nodeBounds: [LayerBounds]) {
        let network = TestNetworks.randomDense(widths: widths, seed: seed)
        let box = TestNetworks.randomBox(dimension: widths[0], rng: &rng, width: 0.8...2)
        let propagator = BoundPropagator(network: network)
        let crown = propagator.bounds(box: box)
        return (network, box, propagator, propagator.regionBounds(box: box, assignment: nil, bounds: crown)!)
    }

    /// The back-substitution context over nodes `0..<target` with `nodeBounds` and the plain
    /// (CROWN) ReLU relaxations, as `optimizedPreActivationBounds` builds it for its sound bound.
    func context(_ network: Network, nodeBounds: [LayerBounds], before target: Int) -> BackSubstitutionContext {
        var context = BackSubstitutionContext(network: network, reluNodes: network.reluNodes,
                                              absoluteRowSums: BoundPropagator(network: network).absoluteRowSums)
        for k in 0..<target {
            if case .relu = network.nodes[k].operation {
                context.setRelaxation(forReLUNode: k, preActivation: nodeBounds[network.nodes[k].inputs[0]],
                                      lowerSlopes: nil)
            }
            context.append(nodeBounds[k])
        }
        return context
    }

    /// On small dense, residual and convolutional networks the optimised bounds contain every
    /// sampled forward pass, are never looser than CROWN's, and are strictly tighter somewhere.
    func testOptimizedBoundsAreSoundAndNeverLooser() {
        var rng = SplitMix64(seed: 31)
        var tighter = 0, compared = 0
        var networks: [Network] = (0..<10).map { TestNetworks.randomDense(widths: [4, 12, 12, 12, 12, 3], seed: UInt64(8000 + $0)) }
        networks += (0..<4).map { TestNetworks.randomResidual(seed: UInt64(8100 + $0)) }
        networks += (0..<4).map { TestNetworks.randomConvolutional(seed: UInt64(8150 + $0)) }
        for (trial, network) in networks.enumerated() {
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.8...2)
            let propagator = BoundPropagator(network: network)
            let crown = propagator.bounds(box: box)
            let optimized = propagator.optimizedBounds(box: box, assignment: nil, bounds: crown, iterations: 30)
            XCTAssertFalse(optimized.isInfeasible, "trial \(trial)")
            assertContains(optimized, network, points: samplePoints(box, count: 2000, rng: &rng))
            for k in 1..<network.nodes.count {
                for i in crown.nodes[k].lower.indices {
                    XCTAssertGreaterThanOrEqual(optimized.nodes[k].lower[i], crown.nodes[k].lower[i], "trial \(trial) node \(k)")
                    XCTAssertLessThanOrEqual(optimized.nodes[k].upper[i], crown.nodes[k].upper[i], "trial \(trial) node \(k)")
                    compared += 1
                    if optimized.nodes[k].lower[i] > crown.nodes[k].lower[i] + 1e-9
                        || optimized.nodes[k].upper[i] < crown.nodes[k].upper[i] - 1e-9 { tighter += 1 }
                }
            }
        }
        print("optimised intermediate bounds beat CROWN on \(tighter) of \(compared) node values")
        XCTAssertGreaterThan(tighter, compared / 20, "optimisation should often beat CROWN")
    }

    /// Under a partial phase assignment the bounds hold for every sampled point that agrees with it.
    func testOptimizedBoundsUnderAnAssignment() {
        var rng = SplitMix64(seed: 32)
        var checked = 0
        for trial in 0..<8 {
            let network = TestNetworks.randomDense(widths: [3, 10, 10, 10, 2], seed: UInt64(8200 + trial))
            let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 0.8...2)
            let propagator = BoundPropagator(network: network)
            var assignment = PhaseAssignment(network: network)
            // Fix the phases of one sampled point, so the region is not empty.
            let anchor = samplePoints(box, count: 1, rng: &rng)[0]
            let pattern = activationPattern(network, input: anchor)
            for layer in 0..<2 {
                for i in assignment.phases[layer].indices where Double.random(in: 0...1, using: &rng) < 0.3 {
                    assignment.phases[layer][i] = pattern[layer][i]
                }
            }
            let crown = propagator.bounds(box: box, assignment: assignment)
            guard !crown.isInfeasible else { continue }
            let optimized = propagator.optimizedBounds(box: box, assignment: assignment, bounds: crown, iterations: 30)
            let agreeing = samplePoints(box, count: 4000, rng: &rng).filter { x in
                let values: [[Float80]] = network.nodeValues(x.map { Float80($0) })
                return agrees(network, values: values, with: assignment)
            }
            XCTAssertFalse(optimized.isInfeasible, "trial \(trial): a sampled point agrees with the assignment")
            assertContains(optimized, network, points: agreeing)
            checked += agreeing.count
        }
        XCTAssertGreaterThan(checked, 100)
    }

    /// The bounds kept are exactly the rounded back-substitution's with the optimiser's slopes,
    /// and strictly below the optimiser's own unrounded estimates: replacing the sound step by the
    /// estimate (or skipping it) fails here.
    func testBoundsComeFromTheSoundPath() {
        var rng = SplitMix64(seed: 33)
        var strictlyBelow = 0, rows = 0
        for trial in 0..<6 {
            let (network, _, propagator, nodeBounds) = randomSetting(widths: [5, 16, 16, 16, 2], seed: UInt64(8300 + trial),
                                                                     rng: &rng)
            let target = network.nodes[network.reluNodes[2]].inputs[0]
            let b = nodeBounds[target]
            let neurons = b.lower.indices.filter { b.lower[$0] < 0 && b.upper[$0] > 0 }
            guard !neurons.isEmpty else { continue }
            let kept = propagator.optimizedPreActivationBounds(node: target, neurons: neurons, nodeBounds: nodeBounds,
                                                               iterations: 25, deadline: nil, learningRate: 0.2, decay: 0.98)
            // Recompute: the same optimisation, its estimate, and the rounded bound without the
            // early stops (whose frontier bounds may beat the estimate legitimately).
            let size = network.nodes[target].size
            var unit = [Double](repeating: 0, count: 2 * neurons.count * size)
            for (q, i) in neurons.enumerated() {
                unit[(2 * q) * size + i] = 1
                unit[(2 * q + 1) * size + i] = -1
            }
            var optimizer = BatchSlopeOptimizer(network: network, target: target, rows: unit, rowCount: 2 * neurons.count,
                                                nodeBounds: nodeBounds)
            optimizer.run(iterations: 25, deadline: nil, learningRate: 0.2, decay: 0.98)
            let estimate = optimizer.evaluate()
            var withStops = context(network, nodeBounds: nodeBounds, before: target)
            let sound = withStops.lowerBounds(start: target, rows: unit, rowCount: 2 * neurons.count,
                                              stopPairsAtDecision: true, rowLowerSlopes: optimizer.alpha)
            XCTAssertEqual(kept, sound, "trial \(trial): the kept bounds are not the rounded back-substitution's")
            var plain = context(network, nodeBounds: nodeBounds, before: target)
            let rounded = plain.lowerBounds(start: target, rows: unit, rowCount: 2 * neurons.count,
                                            rowLowerSlopes: optimizer.alpha)
            for r in estimate.indices {
                XCTAssertLessThan(rounded[r], estimate[r], "trial \(trial) row \(r): rounding did not widen")
                XCTAssertGreaterThanOrEqual(kept[r], rounded[r])
                rows += 1
                if kept[r] < estimate[r] { strictlyBelow += 1 }
            }
        }
        XCTAssertGreaterThan(rows, 20)
        XCTAssertGreaterThan(strictlyBelow, rows / 2)
    }

    /// Per-row slopes in back-substitution: any values (outside `[0, 1]`, NaN) give sound bounds,
    /// checked against sampled points; they are clamped, never trusted.
    func testPerRowSlopesAreSoundForAnyValues() {
        var rng = SplitMix64(seed: 34)
        for trial in 0..<6 {
            let (network, box, _, nodeBounds) = randomSetting(widths: [4, 10, 10, 10, 2], seed: UInt64(8400 + trial),
                                                              rng: &rng)
            let target = network.output
            var context = self.context(network, nodeBounds: nodeBounds, before: target)
            let rowCount = 6
            let rows = (0..<(rowCount * network.outputSize)).map { _ in Double.random(in: -1...1, using: &rng) }
            var slopes: [Int: [Double]] = [:]
            for k in network.reluNodes {
                slopes[k] = (0..<(rowCount * network.nodes[k].size)).map { _ in
                    switch Int.random(in: 0..<10, using: &rng) {
                    case 0: return .nan
                    case 1: return Double.random(in: -3...(-0.1), using: &rng)
                    case 2: return Double.random(in: 1.1...3, using: &rng)
                    default: return Double.random(in: 0...1, using: &rng)
                    }
                }
            }
            let lowers = context.lowerBounds(start: target, rows: rows, rowCount: rowCount, rowLowerSlopes: slopes)
            for x in samplePoints(box, count: 2000, rng: &rng) {
                let y: [Float80] = network.evaluate(x.map { Float80($0) })
                for r in 0..<rowCount {
                    var value: Float80 = 0
                    for j in 0..<network.outputSize { value += Float80(rows[r * network.outputSize + j]) * y[j] }
                    XCTAssertLessThanOrEqual(Float80(lowers[r]), value, "trial \(trial) row \(r)")
                }
            }
        }
    }
}
