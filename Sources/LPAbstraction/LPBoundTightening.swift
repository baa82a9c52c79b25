import Network

extension BoundPropagator {
    /// Tightens the pre-activation bounds of chosen neurons by LP (minimise and maximise each
    /// pre-activation over the triangle relaxation), layer by layer, re-running symbolic bounds
    /// after each layer so later layers start from the tightened ones.
    ///
    /// - Parameters:
    ///   - bounds: sound bounds for `box` ∧ `assignment` (typically from ``bounds(box:assignment:method:)``).
    ///   - neurons: the neurons to tighten (any order; neurons already stable are skipped).
    ///   - deadline: when it passes, tightening stops and the bounds so far are returned.
    /// - Returns: bounds never looser than `bounds` (every LP value is a rigorous bound, see
    ///   ``LPRelaxation``); ``NetworkBounds/isInfeasible`` when an LP proves the region empty.
    ///   Neurons whose LP fails or times out keep their previous bounds.
    public func tightenBounds(box: Box, assignment: PhaseAssignment?, bounds: NetworkBounds,
                              neurons: [NeuronID], deadline: ContinuousClock.Instant?) -> NetworkBounds {
        guard !bounds.isInfeasible, !neurons.isEmpty else { return bounds }
        let fixed = assignment ?? PhaseAssignment(network: network)
        var current = bounds
        let byLayer = Dictionary(grouping: neurons, by: \.layer)
        var lp: LPRelaxation?
        for layer in byLayer.keys.sorted() {
            if let deadline, ContinuousClock.now >= deadline { break }
            // One LP for the whole run, warm-started across layers.
            do {
                if let lp, !lp.isBroken { lp.update(bounds: current, assignment: fixed) } else {
                    lp = try LPRelaxation(network: network, box: box, bounds: current, assignment: fixed)
                }
            } catch {
                return current
            }
            guard let lp else { return current }
            let preNode = network.nodes[reluNodes[layer]].inputs[0]
            var b = current.preActivation[layer]
            var changed = false
            for neuron in byLayer[layer]!.sorted() {
                let i = neuron.index
                for maximize in [false, true] {
                    guard b.lower[i] < 0 && b.upper[i] > 0 else { break }   // already stable
                    switch lp.minimize(preActivationOf: neuron, maximize: maximize, deadline: deadline) {
                    case .optimal(let value, _):
                        if maximize, value < b.upper[i] { b.upper[i] = value; changed = true }
                        if !maximize, value > b.lower[i] { b.lower[i] = value; changed = true }
                    case .infeasible:
                        var result = current
                        result.isInfeasible = true
                        result.infeasibleLayer = layer
                        return result
                    case .timeout:
                        break
                    case .failed:
                        continue
                    }
                }
            }
            guard changed else { continue }
            var known = current.nodes
            known[preNode] = b
            let refreshed = self.bounds(box: box, assignment: assignment, method: .symbolic, lowerSlopes: nil, known: known)
            current = refreshed
            if current.isInfeasible { return current }
        }
        return current
    }

    /// The neurons unstable under `bounds`, in layer order: the usual candidates for tightening.
    public func unstableNeurons(_ bounds: NetworkBounds) -> [NeuronID] {
        var result: [NeuronID] = []
        for (layer, b) in bounds.preActivation.enumerated() {
            for i in b.lower.indices where b.lower[i] < 0 && b.upper[i] > 0 {
                result.append(NeuronID(layer: layer, index: i))
            }
        }
        return result
    }
}

/// The triangle LP that bounds the pre-activations of one ReLU layer, as small as it can be.
///
/// When the layer's pre-activation is a dense node, each neuron's pre-activation is the affine
/// function `w_i·v + b_i` of the dense node's input `v`: the LP ends at `v` and optimises that
/// function, leaving out the layer's other rows (on a 2×800 network, 800 dense rows of the 801
/// the whole model would hold) and everything after. Otherwise it ends at the pre-activation node.
/// Either way it is a relaxation of the whole-network LP, so its bounds are sound. Phases a
/// `region` fixes are not implied by the bounds but define where the bounds must hold, so the
/// model keeps every layer the region fixes, and the whole dense layer when that reaches it.
///
/// Not thread-safe: create, use and destroy on one thread (it owns an ``LPRelaxation``).
final class LayerBoundLP {
    let layer: Int
    let lp: LPRelaxation
    private let dense: DenseLayer?
    private let source: Int

    /// Builds the LP for ReLU layer `layer` with `bounds` (sound for the box and `assignment`);
    /// `boxBounds` as in ``LPRelaxation/init(network:box:bounds:assignment:boxBounds:through:)``;
    /// `region`, the phases that define the region (``StableNeuronDetector/classify(box:assignment:mode:deadline:seed:)``).
    init(network: Network, layer: Int, box: Box, bounds: NetworkBounds, assignment: PhaseAssignment,
         boxBounds: NetworkBounds?, region: PhaseAssignment?) throws {
        self.layer = layer
        let reluNodes = network.reluNodes
        let pre = network.nodes[reluNodes[layer]].inputs[0]
        let regionEnd = region?.phases.lastIndex(where: { $0.contains { $0 != nil } })
        if case .dense(let d) = network.nodes[pre].operation, network.nodes[pre].inputs[0] > 0, (regionEnd ?? -1) < layer {
            dense = d
            source = network.nodes[pre].inputs[0]
        } else {
            dense = nil
            source = Swift.max(pre, regionEnd.map { reluNodes[$0] } ?? 0)
        }
        // A neuron the region fixes inactive has `upper ≤ 0` because the region says so: leaving it
        // out would drop the constraint that defines the region, so it stays in.
        var prune = boxBounds
        if let region, prune != nil {
            for (l, phases) in region.phases.enumerated() {
                for (i, phase) in phases.enumerated() where phase != nil { prune!.preActivation[l].upper[i] = .infinity }
            }
        }
        lp = try LPRelaxation(network: network, box: box, bounds: bounds, assignment: assignment,
                              boxBounds: prune, through: source)
    }

    /// Re-fixes phases and tightens bounds (see ``LPRelaxation/update(bounds:assignment:)``).
    func update(bounds: NetworkBounds, assignment: PhaseAssignment) {
        lp.update(bounds: bounds, assignment: assignment)
    }

    /// A sound lower (upper, with `maximize`) bound of neuron `index`'s pre-activation over the LP.
    func optimize(_ index: Int, maximize: Bool, deadline: ContinuousClock.Instant?) -> LPOutcome {
        guard let dense else {
            return lp.minimize(preActivationOf: NeuronID(layer: layer, index: index), maximize: maximize, deadline: deadline)
        }
        let n = dense.weights.columns
        let row = Array(dense.weights.values[(index * n)..<((index + 1) * n)])
        return lp.minimize(node: source, coefficients: row, constant: dense.bias[index], maximize: maximize, deadline: deadline)
    }
}
