import XCTest
import Network
@testable import LPAbstraction

/// The LP that bounds one ReLU layer's pre-activations from a model ending before the layer
/// (``LayerBoundLP``: the dense row as an affine objective over the layer's input): sound on
/// sampled inputs, a relaxation of the whole-network LP, and never looser than symbolic bounds.
final class LayerBoundLPTests: XCTestCase {
    func testTruncatedLPIsSoundAndBetweenSymbolicAndWholeLP() throws {
        var rng = SplitMix64(seed: 77)
        var compared = 0
        for trial in 0..<10 {
            // Shifted biases leave some neurons stably inactive, so the pruning is exercised too.
            var network = TestNetworks.randomDense(widths: [3, 6, 6, 6, 2], seed: UInt64(7700 + trial))
            for (k, node) in network.nodes.enumerated() {
                guard case .dense(var d) = node.operation, k != network.output else { continue }
                d.bias = d.bias.map { $0 - 0.3 }
                network.nodes[k].operation = .dense(d)
            }
            let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 0.5...1.5)
            let propagator = BoundPropagator(network: network)
            let root = propagator.bounds(box: box)
            guard !root.isInfeasible else { continue }
            let empty = PhaseAssignment(network: network)
            let whole = try LPRelaxation(network: network, box: box, bounds: root, assignment: empty)
            let points = samplePoints(box, count: 300, rng: &rng)
            let values: [[[Float80]]] = points.map { network.nodeValues($0.map { Float80($0) }) }
            for layer in 1..<network.reluNodes.count {
                let lp = try LayerBoundLP(network: network, layer: layer, box: box, bounds: root, assignment: empty,
                                          boxBounds: root, region: nil)
                let pre = network.nodes[network.reluNodes[layer]].inputs[0]
                for i in 0..<network.nodes[pre].size {
                    for maximize in [false, true] {
                        guard case .optimal(let v, let input) = lp.optimize(i, maximize: maximize, deadline: nil),
                              case .optimal(let w, _) = whole.minimize(preActivationOf: NeuronID(layer: layer, index: i),
                                                                       maximize: maximize, deadline: nil) else {
                            return XCTFail("pre-activation LP failed")
                        }
                        XCTAssertTrue(box.contains(input))
                        let symbolic = maximize ? root.preActivation[layer].upper[i] : root.preActivation[layer].lower[i]
                        if maximize {
                            XCTAssertGreaterThanOrEqual(v, w - 1e-7, "truncated LP tighter than the whole LP")
                            XCTAssertLessThanOrEqual(v, symbolic + 1e-7, "truncated LP looser than symbolic bounds")
                            for x in values { XCTAssertLessThanOrEqual(Float80(x[pre][i]), Float80(v), "unsound upper bound") }
                        } else {
                            XCTAssertLessThanOrEqual(v, w + 1e-7, "truncated LP tighter than the whole LP")
                            XCTAssertGreaterThanOrEqual(v, symbolic - 1e-7, "truncated LP looser than symbolic bounds")
                            for x in values { XCTAssertGreaterThanOrEqual(Float80(x[pre][i]), Float80(v), "unsound lower bound") }
                        }
                        compared += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 100)
    }
}
