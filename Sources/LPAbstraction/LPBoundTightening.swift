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
                if let lp { lp.update(bounds: current, assignment: fixed) } else {
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
